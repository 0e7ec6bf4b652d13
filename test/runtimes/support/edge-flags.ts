/**
 * The flag document the workerd and edge-runtime tests serve from the daemon: one flag of each type, a targeted
 * one, and the change the tests push to see a new value reach the runtime.
 */
import { BOOL_FLAG, OBJECT_FLAG } from "../../support/flag-fixtures.js";

function document(stringDefault: "red" | "blue"): object {
	return {
		flags: {
			"bool-flag": BOOL_FLAG,
			"string-flag": {
				state: "ENABLED",
				variants: { red: "#cc0000", blue: "#0000cc" },
				defaultVariant: stringDefault,
			},
			"number-flag": {
				state: "ENABLED",
				variants: { ten: 10, half: 0.5 },
				defaultVariant: "half",
			},
			"object-flag": OBJECT_FLAG,
			"targeted-flag": {
				state: "ENABLED",
				variants: { gold: "GOLD", standard: "STANDARD" },
				defaultVariant: "standard",
				targeting: {
					if: [
						{ starts_with: [{ var: "targetingKey" }, "vip-"] },
						"gold",
						null,
					],
				},
			},
		},
	};
}

export const EDGE_FLAGS = document("red");
/** EDGE_FLAGS with `string-flag` switched from red to blue. */
export const EDGE_FLAGS_CHANGED = document("blue");

/** What each type's evaluation must answer for EDGE_FLAGS: `[path, value, variant]`. */
export const EXPECTED_BY_TYPE = [
	["bool-flag?type=boolean", true, "on"],
	["string-flag?type=string", "#cc0000", "red"],
	["number-flag?type=number", 0.5, "half"],
	["object-flag?type=object", { a: 1, nested: { b: [true, "x"] } }, "obj"],
] as const;

/** Evaluation details as the example handlers answer them (OpenFeature's EvaluationDetails as JSON). */
export interface DetailsJson {
	readonly flagKey: string;
	readonly value: unknown;
	readonly variant?: string;
	readonly reason?: string;
	readonly errorCode?: string;
	readonly errorMessage?: string;
}
