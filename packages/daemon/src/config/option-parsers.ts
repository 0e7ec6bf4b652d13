/**
 * Readers for one raw option value (a string from argv/env, or any value from a JSON/YAML config file). Each returns
 * the parsed value or a problem phrased to follow the option's name: "--port must be an integer 0-65535".
 */
import { parseDurationMs } from "./parse-duration-ms.js";

export type Parsed<T> =
	| { readonly ok: true; readonly value: T }
	| { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

function integerIn(raw: unknown, max: number): number | undefined {
	const n =
		typeof raw === "number"
			? raw
			: typeof raw === "string" && /^\s*\d+\s*$/.test(raw)
				? Number(raw)
				: Number.NaN;
	return Number.isInteger(n) && n >= 0 && n <= max ? n : undefined;
}

export function parsePort(raw: unknown): Parsed<number> {
	const n = integerIn(raw, 65_535);
	return n === undefined ? fail("must be an integer 0-65535") : ok(n);
}

export function parseBytes(raw: unknown): Parsed<number> {
	const n = integerIn(raw, Number.MAX_SAFE_INTEGER);
	return n === undefined
		? fail("must be a whole number of bytes (0 or more)")
		: ok(n);
}

/** A count where 0 means "none" or "no limit" (SSE connections, inactivity delay). */
export function parseCount(raw: unknown): Parsed<number> {
	const n = integerIn(raw, 2_147_483_647);
	return n === undefined ? fail("must be a whole number (0 or more)") : ok(n);
}

/** An http(s) origin (`https://host[:port]`, a trailing slash allowed); empty means "not set". */
export function parseOrigin(raw: unknown): Parsed<string | undefined> {
	const text = parseString(raw);
	if (!text.ok || text.value === undefined) return text;
	try {
		const url = new URL(text.value);
		if (
			(url.protocol === "http:" || url.protocol === "https:") &&
			(url.pathname === "/" || url.pathname === "") &&
			url.search === "" &&
			url.hash === "" &&
			url.username === "" &&
			url.password === ""
		) {
			return ok(url.origin);
		}
	} catch {
		// reported below
	}
	return fail("must be an http(s) origin like https://flags.example.com");
}

/** A count of things that must allow at least one (stream limits); HTTP/2 counts fit in 32 bits. */
export function parsePositiveCount(raw: unknown): Parsed<number> {
	const n = integerIn(raw, 0xffff_ffff);
	return n === undefined || n === 0
		? fail("must be a whole number from 1 to 4294967295")
		: ok(n);
}

export function parseDuration(raw: unknown): Parsed<number> {
	const ms =
		typeof raw === "number"
			? integerIn(raw, Number.MAX_SAFE_INTEGER)
			: typeof raw === "string"
				? parseDurationMs(raw)
				: undefined;
	return ms === undefined || ms > 2_147_483_647
		? fail(
				"must be a duration like 500ms, 30s, 1m30s or 2h (or plain milliseconds), at most 24d",
			)
		: ok(ms);
}

// strconv.ParseBool's spellings (what pflag and viper accept), case-insensitively.
const TRUE = new Set(["1", "t", "true", "yes", "on"]);
const FALSE = new Set(["0", "f", "false", "no", "off"]);

export function parseBoolean(raw: unknown): Parsed<boolean> {
	if (typeof raw === "boolean") return ok(raw);
	const text = String(raw).trim().toLowerCase();
	if (TRUE.has(text)) return ok(true);
	if (FALSE.has(text)) return ok(false);
	return fail("must be true or false");
}

/** Empty text means "not set" (flagd's "" defaults), hence `undefined`. */
export function parseString(raw: unknown): Parsed<string | undefined> {
	if (typeof raw === "number") return ok(String(raw));
	if (typeof raw !== "string") return fail("must be a string");
	const text = raw.trim();
	return ok(text === "" ? undefined : text);
}

export function parseChoice<T extends string>(
	choices: readonly T[],
): (raw: unknown) => Parsed<T> {
	return (raw) => {
		const text = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
		const found = choices.find((c) => c === text);
		return found === undefined
			? fail(`must be one of ${choices.join(", ")}`)
			: ok(found);
	};
}

/** A list from a config-file array, or comma-separated text (pflag's StringSlice); blanks are dropped. */
export function parseList(raw: unknown): Parsed<string[]> {
	const parts = Array.isArray(raw)
		? raw
		: typeof raw === "string"
			? raw.split(",")
			: [raw];
	const out: string[] = [];
	for (const part of parts) {
		if (typeof part !== "string" && typeof part !== "number") {
			return fail("must be a string or a list of strings");
		}
		const text = String(part).trim();
		if (text !== "") out.push(text);
	}
	return ok(out);
}

/**
 * `key=value` pairs: a config-file mapping, a list of `k=v` strings, or comma-separated text (pflag's
 * StringToString). Values are strings, as in flagd; a config file's numbers and booleans are turned into text.
 */
export function parseMap(raw: unknown): Parsed<Array<[string, string]>> {
	if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
		const out: Array<[string, string]> = [];
		for (const [key, value] of Object.entries(raw)) {
			if (value !== null && typeof value === "object") {
				return fail(`value of "${key}" must be a string, number or boolean`);
			}
			out.push([key, String(value)]);
		}
		return ok(out);
	}
	const list = parseList(raw);
	if (!list.ok) return fail("must be key=value pairs");
	const out: Array<[string, string]> = [];
	for (const pair of list.value) {
		const eq = pair.indexOf("=");
		if (eq <= 0) return fail(`must be key=value, got "${pair}"`);
		out.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]);
	}
	return ok(out);
}
