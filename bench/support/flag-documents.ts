/**
 * Generated flag documents for the daemon benchmarks: a small realistic set for throughput/soak, n-flag documents
 * with a fixed mix of kinds for the scale benchmark, and a revisioned document for propagation (each revision
 * changes one flag, so every write is a real configuration_change).
 */

type FlagDefinition = Record<string, unknown>;

export interface FlagDocument {
	readonly $schema: string;
	readonly flags: Record<string, FlagDefinition>;
}

const SCHEMA = "https://flagd.dev/schema/v0/flags.json";

/** Flag evaluated by the throughput benchmark: targeting on an email suffix (a typical rule, not a static flag). */
export const THROUGHPUT_FLAG = "new-checkout";
export const THROUGHPUT_CONTEXT = {
	targetingKey: "user-1234",
	email: "ada@example.com",
} as const;

/** The flags every daemon benchmark serves (OFREP bulk evaluates them all). */
export function throughputDocument(): FlagDocument {
	return {
		$schema: SCHEMA,
		flags: {
			[THROUGHPUT_FLAG]: {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: "off",
				targeting: {
					if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", "off"],
				},
			},
			"banner-color": {
				state: "ENABLED",
				variants: { red: "#c00", green: "#0c0", blue: "#00c" },
				defaultVariant: "red",
			},
			"rollout-percent": {
				state: "ENABLED",
				variants: { low: 10, high: 90 },
				defaultVariant: "low",
				targeting: {
					fractional: [
						{ cat: [{ var: "$flagd.flagKey" }, { var: "targetingKey" }] },
						["low", 50],
						["high", 50],
					],
				},
			},
			"checkout-config": {
				state: "ENABLED",
				variants: {
					v1: { retries: 3, timeoutMs: 1500, provider: "stripe" },
					v2: { retries: 5, timeoutMs: 900, provider: "adyen" },
				},
				defaultVariant: "v1",
				targeting: {
					if: [{ sem_ver: [{ var: "appVersion" }, ">=", "2.0.0"] }, "v2", "v1"],
				},
			},
		},
	};
}

/** How {@link scaleDocument} writes its targeting rules. */
export interface ScaleDocumentOptions {
	/**
	 * Every targeted flag gets a rule of its own (its own segment value, its own bucketing salt) instead of one of eight
	 * rules (an `if` and a `fractional` one per variant set) shared by the targeted flags. The daemon compiles equal rules once, so the shared-rule document
	 * shows that saving; this one shows a document whose rules are all different. @default false
	 */
	readonly distinctRules?: boolean;
}

/**
 * `count` flags, a third each static, targeting (`if` on a context attribute) and fractional (3 buckets), with
 * string/number/boolean/object variants rotating, as a large production document would look.
 */
export function scaleDocument(
	count: number,
	options: ScaleDocumentOptions = {},
): FlagDocument {
	const distinct = options.distinctRules ?? false;
	if (!Number.isInteger(count) || count < 0)
		throw new RangeError(
			`flag count must be a non-negative integer, got ${count}`,
		);
	const flags: Record<string, FlagDefinition> = {};
	for (let i = 0; i < count; i++) {
		const key = `flag-${String(i).padStart(5, "0")}`;
		const variants = variantsFor(i);
		const names = Object.keys(variants);
		const first = names[0] as string;
		const second = names[1] as string;
		const definition: FlagDefinition = {
			state: "ENABLED",
			variants,
			defaultVariant: first,
		};
		if (i % 3 === 1) {
			definition.targeting = {
				if: [
					{
						in: [
							{ var: "tier" },
							["gold", distinct ? `segment-${i}` : "platinum"],
						],
					},
					second,
					first,
				],
			};
		} else if (i % 3 === 2) {
			definition.targeting = {
				fractional: [
					...(distinct
						? [{ cat: [{ var: "targetingKey" }, `salt-${i}`] }]
						: []),
					[first, 34],
					[second, 33],
					[names[2] ?? first, 33],
				],
			};
		}
		flags[key] = definition;
	}
	return { $schema: SCHEMA, flags };
}

function variantsFor(i: number): Record<string, unknown> {
	switch (i % 4) {
		case 0:
			return { on: true, off: false, maybe: false };
		case 1:
			return { a: `value-a-${i}`, b: `value-b-${i}`, c: `value-c-${i}` };
		case 2:
			return { low: i, mid: i * 2, high: i * 3 };
		default:
			return {
				small: { limit: 10, name: `cfg-${i}` },
				large: { limit: 1000, name: `cfg-${i}` },
				none: {},
			};
	}
}

/** Revision `rev` of the propagation document: `color` flips and `revision` carries the number. */
export function revisionDocument(rev: number): FlagDocument {
	return {
		$schema: SCHEMA,
		flags: {
			color: {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: rev % 2 === 0 ? "red" : "blue",
			},
			revision: {
				state: "ENABLED",
				variants: { current: rev },
				defaultVariant: "current",
			},
			...throughputDocument().flags,
		},
	};
}
