import type { EvaluationContext, JsonObject, JsonValue } from "./types.js";

/** Limits applied by {@link sanitizeContext}. */
export interface SanitizeContextOptions {
	/** Deepest nesting kept; deeper values become `null`. @default 32 levels */
	readonly maxDepth?: number;
	/** Most values (object entries + array items, all levels) kept; later ones are dropped. @default 10000 values */
	readonly maxValues?: number;
	/** Longest string kept; longer strings are cut. @default 65536 UTF-16 code units */
	readonly maxStringLength?: number;
}

/** {@link SanitizeContextOptions} with every default filled in. */
export interface SanitizeContextConfig {
	readonly maxDepth: number;
	readonly maxValues: number;
	readonly maxStringLength: number;
}

const DEFAULTS = {
	maxDepth: 32,
	maxValues: 10_000,
	maxStringLength: 65_536,
} as const satisfies SanitizeContextConfig;

/** Fills the defaults field by field. */
export function resolveSanitizeContextOptions(
	options: SanitizeContextOptions = {},
): SanitizeContextConfig {
	return {
		maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
		maxValues: options.maxValues ?? DEFAULTS.maxValues,
		maxStringLength: options.maxStringLength ?? DEFAULTS.maxStringLength,
	};
}

/**
 * Sets `key` as an own data property. Assigning `__proto__` would hit the accessor of objects that have
 * Object.prototype; defining it keeps it an ordinary key wherever the object ends up.
 */
export function setOwnProperty(
	target: Record<string, unknown>,
	key: string,
	value: unknown,
): void {
	if (key === "__proto__") {
		Object.defineProperty(target, key, {
			value,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	} else {
		target[key] = value;
	}
}

/**
 * Turns untrusted input into a safe {@link EvaluationContext}: a fresh copy made of null-prototype objects and plain
 * arrays. Keys are ordinary strings: `__proto__`, `constructor` and `prototype` stay as own properties (the
 * evaluator reads own properties only, so `{"var":"constructor"}` answers the context's entry or null and never
 * reaches `Object.prototype`), with depth, value count and string length bounded. Non-JSON values are
 * converted (`Date` -> ISO string, non-finite numbers -> null, bigint -> number when safe) or dropped (functions,
 * symbols, undefined). A non-object input yields an empty context. Cycles become `null`. Throws only what a hostile
 * getter or Proxy trap of the input throws.
 */
export function sanitizeContext(
	input: unknown,
	options?: SanitizeContextOptions,
): EvaluationContext {
	const config = resolveSanitizeContextOptions(options);
	let budget = config.maxValues;
	const seen = new Set<object>();

	const convert = (value: unknown, depth: number): JsonValue | undefined => {
		switch (typeof value) {
			case "string":
				return value.length > config.maxStringLength
					? value.slice(0, config.maxStringLength)
					: value;
			case "number":
				return Number.isFinite(value) ? value : null;
			case "boolean":
				return value;
			case "bigint":
				return Number.isSafeInteger(Number(value))
					? Number(value)
					: value.toString();
			case "object":
				break;
			default:
				return undefined;
		}
		if (value === null) return null;
		if (value instanceof Date)
			return Number.isNaN(value.getTime()) ? null : value.toISOString();
		if (depth >= config.maxDepth || seen.has(value)) return null;
		seen.add(value);
		try {
			if (Array.isArray(value)) {
				const out: JsonValue[] = [];
				for (const item of value) {
					if (budget <= 0) break;
					budget--;
					const converted = convert(item, depth + 1);
					out.push(converted === undefined ? null : converted);
				}
				return out;
			}
			return convertObject(value as Record<string, unknown>, depth);
		} finally {
			seen.delete(value);
		}
	};

	const convertObject = (
		value: Record<string, unknown>,
		depth: number,
	): JsonObject => {
		const out: JsonObject = Object.create(null);
		for (const key of Object.keys(value)) {
			if (budget <= 0) break;
			budget--;
			const converted = convert(value[key], depth + 1);
			if (converted !== undefined) setOwnProperty(out, key, converted);
		}
		return out;
	};

	if (input === null || typeof input !== "object" || Array.isArray(input))
		return Object.create(null);
	return convertObject(input as Record<string, unknown>, 0);
}
