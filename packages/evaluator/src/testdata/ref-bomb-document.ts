import type { JsonValue } from "../types.js";

/** `$evaluators` where each entry references the next one twice: inlining copies 2^depth nodes. */
export function refBombDocument(depth: number): string {
	const evaluators: Record<string, JsonValue> = {};
	for (let i = 0; i < depth; i++)
		evaluators[`e${i}`] = {
			or: [{ $ref: `e${i + 1}` }, { $ref: `e${i + 1}` }],
		};
	evaluators[`e${depth}`] = { "==": [{ var: "x" }, 1] };
	return JSON.stringify({
		flags: {
			bomb: {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: "off",
				targeting: { if: [{ $ref: "e0" }, "on", "off"] },
			},
		},
		$evaluators: evaluators,
	});
}
