/**
 * Keys named `__proto__` as ordinary keys. JavaScript treats `obj["__proto__"] = v` as setting the prototype, so
 * code that builds objects by assignment (protobuf-es for maps and Structs) drops such a key; objects built here
 * get it with `Object.defineProperty`, which makes an own data property like any other key.
 */

const PROTO = "__proto__";

/** Whether a JSON value holds an own `__proto__` key at any depth. */
export function hasProtoKey(value: unknown): boolean {
	if (value === null || typeof value !== "object") return false;
	if (Array.isArray(value)) return value.some(hasProtoKey);
	if (Object.hasOwn(value, PROTO)) return true;
	return Object.values(value).some(hasProtoKey);
}

/** Sets `key` as an own data property, whatever its name (assignment would treat `__proto__` specially). */
export function defineKey(target: object, key: string, value: unknown): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}
