import {
	create,
	type DescMessage,
	type JsonObject,
	type JsonValue,
	type Message,
} from "@bufbuild/protobuf";
import { defineKey, structUnknownField } from "@flagd-ts/protocol";
import {
	type EvaluationContext,
	type FlagMetadata,
	InvalidContextError,
} from "@openfeature/core";

/** Deepest nesting accepted in a context; flagd (protobuf) rejects deeper messages anyway. */
export const MAX_CONTEXT_DEPTH = 32;

/**
 * Converts an OpenFeature evaluation context to the JSON form of a `google.protobuf.Struct`.
 *
 * - `targetingKey` stays a top-level string field (flagd reads it from there).
 * - `Date` becomes its ISO-8601 string (a Struct has no timestamp; flagd targeting compares strings).
 * - `bigint` becomes its decimal string, so large integers arrive without losing digits.
 * - `undefined` fields are dropped (and `undefined` array items become `null`, as in JSON).
 * - Keys are ordinary strings: `__proto__`, `constructor` and `prototype` become own properties of the result
 *   (send it with {@link requestWithContext}, which keeps them on the binary wire).
 * - Cycles, functions, symbols, non-finite numbers, class instances other than Date and nesting deeper than
 *   {@link MAX_CONTEXT_DEPTH} throw `InvalidContextError` naming the path. Nothing is dropped silently and no
 *   prototype is ever modified.
 */
export function contextToStruct(context: EvaluationContext): JsonObject {
	if (
		context.targetingKey !== undefined &&
		typeof context.targetingKey !== "string"
	) {
		throw new InvalidContextError(
			`context.targetingKey must be a string, got ${typeof context.targetingKey}`,
		);
	}
	return convertObject(
		context as Record<string, unknown>,
		"context",
		new Set(),
		0,
	);
}

function convertValue(
	value: unknown,
	path: string,
	ancestors: Set<object>,
	depth: number,
): JsonValue | undefined {
	switch (typeof value) {
		case "string":
		case "boolean":
			return value;
		case "number":
			if (!Number.isFinite(value)) {
				throw new InvalidContextError(
					`${path} is ${value}; only finite numbers can be sent to flagd`,
				);
			}
			return value;
		case "bigint":
			return value.toString();
		case "undefined":
			return undefined;
		case "object":
			if (value === null) return null;
			if (value instanceof Date) {
				if (Number.isNaN(value.getTime())) {
					throw new InvalidContextError(`${path} is an invalid Date`);
				}
				return value.toISOString();
			}
			if (depth >= MAX_CONTEXT_DEPTH) {
				throw new InvalidContextError(
					`${path} is nested deeper than ${MAX_CONTEXT_DEPTH} levels`,
				);
			}
			if (ancestors.has(value)) {
				throw new InvalidContextError(
					`${path} refers back to one of its parents (cycle)`,
				);
			}
			if (Array.isArray(value)) {
				ancestors.add(value);
				const out = value.map(
					(item, i) =>
						convertValue(item, `${path}[${i}]`, ancestors, depth + 1) ?? null,
				);
				ancestors.delete(value);
				return out;
			}
			return convertObject(value, path, ancestors, depth + 1);
		default:
			throw new InvalidContextError(
				`${path} is a ${typeof value}, which cannot be sent to flagd`,
			);
	}
}

function convertObject(
	value: object,
	path: string,
	ancestors: Set<object>,
	depth: number,
): JsonObject {
	const proto: unknown = Object.getPrototypeOf(value);
	if (proto !== Object.prototype && proto !== null) {
		const name =
			(value as { constructor?: { name?: string } }).constructor?.name ??
			"object";
		throw new InvalidContextError(
			`${path} is a ${name}; only plain objects, arrays, Dates and primitives can be sent to flagd`,
		);
	}
	ancestors.add(value);
	const out: JsonObject = {};
	for (const key of Object.keys(value)) {
		const converted = convertValue(
			(value as Record<string, unknown>)[key],
			`${path}.${key}`,
			ancestors,
			depth,
		);
		if (converted !== undefined) defineKey(out, key, converted);
	}
	ancestors.delete(value);
	return out;
}

/**
 * Copies a Struct received from flagd into fresh plain objects. Only own keys are copied, so a `__proto__` entry
 * in the wire data (which the protobuf runtime turns into a prototype) never reaches the caller.
 */
export function structToPlain(json: JsonObject): JsonObject {
	const out: JsonObject = {};
	for (const key of Object.keys(json)) {
		const v = json[key];
		if (v !== undefined) defineKey(out, key, plainValue(v));
	}
	return out;
}

function plainValue(v: JsonValue): JsonValue {
	if (Array.isArray(v)) return v.map(plainValue);
	if (v !== null && typeof v === "object")
		return structToPlain(v as JsonObject);
	return v;
}

/**
 * Flag metadata per the OpenFeature spec (2.2.10): a flat map of string, number or boolean. Nested values and
 * nulls from the Struct are left out.
 */
export function structToFlagMetadata(
	json: JsonObject | undefined,
): FlagMetadata {
	const out: Record<string, string | number | boolean> = {};
	if (json === undefined) return out;
	for (const key of Object.keys(json)) {
		const v = json[key];
		if (
			typeof v === "string" ||
			typeof v === "number" ||
			typeof v === "boolean"
		)
			defineKey(out, key, v);
	}
	return out;
}

/**
 * Canonical JSON of a Struct (object keys sorted), used to recognise equal contexts: two Structs have the same
 * canonical JSON only if they are equal, map order aside (`-0` is written `-0`, unlike JSON, because a Struct
 * carries the sign).
 */
export function stableStringify(value: JsonValue): string {
	if (typeof value === "number" && Object.is(value, -0)) return "-0";
	if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
	if (value !== null && typeof value === "object") {
		const keys = Object.keys(value).sort();
		return `{${keys
			.map(
				(k) =>
					`${JSON.stringify(k)}:${stableStringify((value as JsonObject)[k] ?? null)}`,
			)
			.join(",")}}`;
	}
	return JSON.stringify(value);
}

/** Whether a JSON value holds an own `__proto__` key at any depth. */
function hasProtoKey(value: unknown): boolean {
	if (value === null || typeof value !== "object") return false;
	if (Array.isArray(value)) return value.some(hasProtoKey);
	if (Object.hasOwn(value, "__proto__")) return true;
	return Object.values(value).some(hasProtoKey);
}

/**
 * A request message of `schema` with `fields` and the Struct field `context`. protobuf-es's binary encoder would
 * drop a `__proto__` context key (it converts the JSON form by assignment), so a context holding one is also
 * carried as an unknown field with the context's number and every key: decoders merge it into the known field.
 */
export function requestWithContext(
	schema: DescMessage,
	fields: Record<string, unknown>,
	context: JsonObject,
): Message {
	const message = create(schema, { ...fields, context } as never);
	if (!hasProtoKey(context)) return message;
	const field = schema.fields.find((f) => f.localName === "context");
	if (field === undefined)
		throw new Error(`${schema.typeName} has no context field`);
	message.$unknown = [structUnknownField(field.number, context)];
	return message;
}
