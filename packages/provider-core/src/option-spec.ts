/**
 * Declarative description of one provider option: its name, its `FLAGD_*` environment variable (if any), its
 * kind and limits. The same table drives validation of explicit options, parsing of environment variables and
 * the README's option table, so the three cannot drift apart.
 */
export interface OptionSpec {
	/** Option name as passed to the provider constructor. */
	readonly name: string;
	/** Environment variable read by the Node provider; absent for options that have none. */
	readonly env?: string;
	readonly kind: "string" | "integer" | "boolean" | "enum" | "list";
	/** Inclusive lower bound for integers. */
	readonly min?: number;
	/** Inclusive upper bound for integers. */
	readonly max?: number;
	/** Allowed values for enums (lower case; environment values are matched case-insensitively). */
	readonly values?: readonly string[];
	/** Default as shown to users (README), e.g. `"500"` or `"none"`. */
	readonly defaultText: string;
	/** One-line description including the unit. */
	readonly doc: string;
}

/** A value an option can hold after parsing. */
export type OptionValue = string | number | boolean | readonly string[];

/** Result of checking one value against its spec: the normalised value, or a message saying what is wrong. */
export type OptionCheck =
	| { readonly ok: true; readonly value: OptionValue }
	| { readonly ok: false; readonly problem: string };

/**
 * Checks a value given in code (constructor option). Types must match exactly; integers must be safe integers
 * within the spec's bounds. Enum values are accepted case-insensitively and normalised to lower case.
 */
export function checkOptionValue(
	spec: OptionSpec,
	value: unknown,
): OptionCheck {
	switch (spec.kind) {
		case "string":
			return typeof value === "string"
				? { ok: true, value }
				: { ok: false, problem: `expected a string, got ${describe(value)}` };
		case "boolean":
			return typeof value === "boolean"
				? { ok: true, value }
				: { ok: false, problem: `expected a boolean, got ${describe(value)}` };
		case "integer":
			return checkInteger(spec, value);
		case "enum":
			return checkEnum(spec, value);
		case "list":
			if (
				Array.isArray(value) &&
				value.every((v): v is string => typeof v === "string")
			) {
				return { ok: true, value: [...value] };
			}
			return {
				ok: false,
				problem: `expected an array of strings, got ${describe(value)}`,
			};
	}
}

/**
 * Parses the text of an environment variable for a spec. Booleans accept `true`/`false` in any case, integers
 * must be plain decimal digits (so `abc`, `1.5` and `` are problems, `0` is a value), lists are comma-separated
 * with blanks trimmed.
 */
export function parseOptionText(spec: OptionSpec, raw: string): OptionCheck {
	const text = raw.trim();
	switch (spec.kind) {
		case "string":
			return { ok: true, value: raw };
		case "boolean": {
			const lower = text.toLowerCase();
			if (lower === "true") return { ok: true, value: true };
			if (lower === "false") return { ok: true, value: false };
			return {
				ok: false,
				problem: `expected "true" or "false", got ${JSON.stringify(raw)}`,
			};
		}
		case "integer":
			if (!/^-?\d+$/.test(text)) {
				return {
					ok: false,
					problem: `expected an integer, got ${JSON.stringify(raw)}`,
				};
			}
			return checkInteger(spec, Number(text));
		case "enum":
			return checkEnum(spec, text);
		case "list":
			return {
				ok: true,
				value: text
					.split(",")
					.map((s) => s.trim())
					.filter((s) => s.length > 0),
			};
	}
}

function checkInteger(spec: OptionSpec, value: unknown): OptionCheck {
	if (typeof value !== "number" || !Number.isSafeInteger(value)) {
		return {
			ok: false,
			problem: `expected an integer, got ${describe(value)}`,
		};
	}
	if (spec.min !== undefined && value < spec.min) {
		return { ok: false, problem: `must be >= ${spec.min}, got ${value}` };
	}
	if (spec.max !== undefined && value > spec.max) {
		return { ok: false, problem: `must be <= ${spec.max}, got ${value}` };
	}
	return { ok: true, value };
}

function checkEnum(spec: OptionSpec, value: unknown): OptionCheck {
	const allowed = spec.values ?? [];
	if (typeof value === "string") {
		const lower = value.trim().toLowerCase();
		if (allowed.includes(lower)) return { ok: true, value: lower };
	}
	return {
		ok: false,
		problem: `expected one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(value)}`,
	};
}

function describe(value: unknown): string {
	if (typeof value === "string") return JSON.stringify(value);
	if (typeof value === "bigint") return `${value}n`;
	if (value === null || typeof value !== "object") return String(value);
	return Array.isArray(value) ? "an array" : "an object";
}
