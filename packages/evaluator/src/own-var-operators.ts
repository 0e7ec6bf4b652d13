import { readOwnPath, splitVarPath } from "./own-path.js";

/**
 * `var`, `missing` and `missing_some` reading own properties only (see own-path.ts). They replace
 * json-logic-engine's versions, whose lookups (`data[key]`) climb prototype chains, in both targeting modes.
 */

// json-logic-engine marks synchronous functions with this registered symbol; unmarked ones get `await`ed.
const SYNC = Symbol.for("json_logic_sync");

interface BuildState {
	compile(strings: TemplateStringsArray, ...items: unknown[]): unknown;
	insideIterator?: boolean;
}

function sync<T extends (...args: never[]) => unknown>(fn: T): T {
	Object.defineProperty(fn, SYNC, { value: true });
	return fn;
}

/** What `var` yields for a looked-up value: functions never leave the engine, missing values take the default. */
function varResult(value: unknown, notFound: unknown): unknown {
	if (value === undefined || value === null) return notFound;
	return typeof value === "function" ? null : value;
}

/** The interpreted `var`: `"path"` or `["path", default]`, with `../` climbing to enclosing iterator scopes. */
function varMethod(
	keyArg: unknown,
	context: unknown,
	above: unknown[] = [],
): unknown {
	let key = keyArg;
	let fallback: unknown;
	if (Array.isArray(key)) {
		fallback = key[1];
		key = key[0];
	}
	let scopes = above;
	let iter = 0;
	let data = context;
	while (
		typeof key === "string" &&
		key.startsWith("../") &&
		iter < scopes.length
	) {
		data = scopes[iter++];
		key = key.substring(3);
		// json-logic-engine passes nested scopes as a trailing array instead of spreading them.
		if (iter === scopes.length && Array.isArray(data)) {
			iter = 0;
			scopes = data;
			data = scopes[iter++];
		}
	}
	const notFound = fallback === undefined ? null : fallback;
	if (key === undefined || key === null || key === "") {
		return typeof data === "function" ? null : data;
	}
	const value = readOwnPath(data, splitVarPath(String(key)));
	return value === undefined ? notFound : varResult(value, notFound);
}

function isLiteral(value: unknown): boolean {
	return value === null || typeof value !== "object";
}

/** Compiles a literal path to one closure; anything else (dynamic keys, `../`) runs the interpreted method. */
function compileVar(data: unknown, state: BuildState): unknown {
	let key = data;
	let fallback: unknown = null;
	if (Array.isArray(data)) {
		if (data.length > 2 || !isLiteral(data[1])) return false;
		key = data[0];
		fallback = data[1] ?? null;
	}
	if (key === undefined || key === null || key === "") {
		return state.compile`${sync((context: unknown) => varMethod("", context))}(context)`;
	}
	if (typeof key !== "string" && typeof key !== "number") return false;
	const path = String(key);
	if (path.includes("../")) return false;
	const pieces = splitVarPath(path);
	const notFound = fallback;
	const read = sync((context: unknown) =>
		varResult(readOwnPath(context, pieces), notFound),
	);
	return state.compile`${read}(context)`;
}

function missingMethod(checked: unknown, context: unknown): unknown[] {
	const keys = Array.isArray(checked) ? checked : [checked];
	const missing: unknown[] = [];
	for (const key of keys) {
		if (readOwnPath(context, splitVarPath(String(key))) === undefined)
			missing.push(key);
	}
	return missing;
}

function missingSomeMethod(args: unknown, context: unknown): unknown[] {
	const [needCount, options] = Array.isArray(args) ? args : [];
	const list = Array.isArray(options) ? options : [];
	const missing = missingMethod(list, context);
	return list.length - missing.length >= Number(needCount) ? [] : missing;
}

/** Method definitions for `engine.addMethod(name, definition)`. */
export const OWN_VAR_OPERATORS = {
	var: {
		method: varMethod,
		optimizeUnary: true,
		deterministic: (data: unknown, state: BuildState) =>
			state.insideIterator === true && !String(data).includes("../../"),
		compile: compileVar,
	},
	missing: { method: missingMethod, deterministic: false },
	missing_some: { method: missingSomeMethod, deterministic: false },
} as const;

/**
 * JsonLogic truthiness for JSON data: empty arrays and objects are false. json-logic-engine's own version reads
 * `value.constructor.name`, which throws for the null-prototype objects of a sanitised context and is steered by
 * a context key named `constructor`.
 */
export function jsonTruthy(value: unknown): unknown {
	if (Array.isArray(value)) return value.length > 0;
	if (value !== null && typeof value === "object")
		return Object.keys(value).length > 0;
	return value;
}
