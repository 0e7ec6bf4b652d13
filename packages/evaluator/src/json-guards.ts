import type { JsonObject } from "./types.js";

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
	return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Sets an own enumerable property, so a `__proto__` key never replaces the prototype. */
export function defineOwn<T>(
	target: Record<string, T>,
	key: string,
	value: T,
): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

/**
 * A prototype-less record of `entries` (keys such as `__proto__` are own data). Built as an ordinary object and
 * then detached from its prototype: V8 keeps such an object in fast mode (about a third of the memory of one made
 * with `Object.create(null)`, which starts as a hash table), and a daemon keeps one per flag and per variant set.
 */
export function nullPrototypeRecord<T>(
	entries: Iterable<readonly [string, T]>,
): Record<string, T> {
	const record: Record<string, T> = {};
	for (const [key, value] of entries) defineOwn(record, key, value);
	Object.setPrototypeOf(record, null);
	return record;
}

/** Nesting depth of a JSON value, computed without recursion so hostile inputs cannot overflow the stack. */
export function jsonDepth(root: unknown, limit: number): number {
	let max = 0;
	const values: unknown[] = [root];
	const depths: number[] = [1];
	while (values.length > 0) {
		const value = values.pop();
		const depth = depths.pop() as number;
		if (value === null || typeof value !== "object") continue;
		if (depth > max) {
			max = depth;
			if (max > limit) return max;
		}
		const children = Array.isArray(value)
			? value
			: Object.values(value as JsonObject);
		for (let i = 0; i < children.length; i++) {
			const child: unknown = children[i];
			if (child !== null && typeof child === "object") {
				values.push(child);
				depths.push(depth + 1);
			}
		}
	}
	return max;
}
