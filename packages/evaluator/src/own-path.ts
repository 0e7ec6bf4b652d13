import { splitPathMemoized } from "json-logic-engine";

/**
 * Own-property reads of evaluation data. Context keys are ordinary strings (`__proto__`, `constructor`,
 * `prototype` included), so a lookup must never climb a prototype chain: `{"var":"constructor"}` reads the
 * context's own `constructor` entry or nothing, never `Object.prototype.constructor`, and `{"var":"s.__proto__"}`
 * on a string never reaches `String.prototype`.
 */

/** `Object.hasOwn`, spelled for ES2020 lib targets. */
const hasOwn = (target: object, key: string): boolean =>
	Object.hasOwn(target, key);

/** The own property `key` of `data`, or `undefined` when `data` is not an object or has no such own key. */
export function ownProperty(data: unknown, key: string): unknown {
	if (data === null || typeof data !== "object") return undefined;
	return hasOwn(data, key) ? (data as Record<string, unknown>)[key] : undefined;
}

/** Follows the dot-separated (JsonLogic `var`) path `pieces` through own properties only. */
export function readOwnPath(data: unknown, pieces: readonly string[]): unknown {
	let current = data;
	for (const piece of pieces) {
		current = ownProperty(current, piece);
		if (current === undefined) return undefined;
	}
	return current;
}

/** JsonLogic's path syntax (`a.b`, `a\\.b`), split once per distinct path. */
export function splitVarPath(path: string | number): readonly string[] {
	return splitPathMemoized(String(path)) as readonly string[];
}
