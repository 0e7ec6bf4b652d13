/**
 * A binary codec for the small, flat messages of the flagd evaluation API: fields that are strings, bools,
 * doubles, 32/64-bit integers or a `google.protobuf.Struct`, with implicit or explicit presence. It reads and
 * writes exactly what @bufbuild/protobuf's `toBinary`/`fromBinary` do for those messages (same bytes, same
 * decoded shape; the tests compare both on generated inputs), in a fraction of the time: the request context is
 * written from the JSON object straight to bytes, with no intermediate Struct/Value messages and no reflection
 * per call. Messages with any other kind of field (lists, maps, enums, oneofs, other messages) get no codec and
 * stay on @bufbuild/protobuf.
 *
 * Deliberate differences: a Struct key named `__proto__` decodes to an own property, where the generic decoder's
 * plain assignment would replace the object's prototype; explicit-presence fields that are absent are own
 * properties set to `undefined` rather than missing. Invalid UTF-8 in a string is rejected, as `fromBinary` does.
 *
 * Node only (it reads and writes through Buffer): the subpath is for the Node provider and the daemon.
 */
import { isUtf8 } from "node:buffer";
import {
	type DescField,
	type DescMessage,
	type JsonObject,
	type JsonValue,
	ScalarType,
} from "@bufbuild/protobuf";

/** Encoder and decoder for one message type. */
export interface FastMessageCodec {
	/**
	 * Encodes a message or an init object (`create()` shape) of the type. With `reserve`, that many bytes are
	 * left free at the start of the result (for the caller's framing, e.g. a gRPC envelope header). Returns
	 * undefined when a field holds a value of the wrong type or range: `toBinary` then reports it in its words.
	 */
	encode(message: object, reserve?: number): Uint8Array | undefined;
	/** Decodes into the shape `fromBinary` returns (with `$typeName`). */
	decode(bytes: Uint8Array): Record<string, unknown>;
}

const STRUCT = "google.protobuf.Struct";
const EXPLICIT_PRESENCE = 1;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

type Kind = "string" | "bool" | "double" | "int64" | "int32" | "struct";

interface Field {
	readonly name: string;
	readonly number: number;
	readonly kind: Kind;
	readonly explicit: boolean;
	/** Encoded tag byte(s) for this field. */
	readonly tag: number;
}

const cache = new WeakMap<DescMessage, FastMessageCodec | null>();

/** The codec for `desc`, or undefined when a field is of a kind this codec does not handle. */
export function fastMessageCodec(
	desc: DescMessage,
): FastMessageCodec | undefined {
	let codec = cache.get(desc);
	if (codec === undefined) {
		codec = build(desc);
		cache.set(desc, codec);
	}
	return codec ?? undefined;
}

function build(desc: DescMessage): FastMessageCodec | null {
	const fields: Field[] = [];
	for (const f of desc.fields) {
		const kind = kindOf(f);
		if (kind === undefined || f.number > 15) return null;
		fields.push({
			name: f.localName,
			number: f.number,
			kind,
			explicit: kind === "struct" || f.presence === EXPLICIT_PRESENCE,
			tag: (f.number << 3) | wireTypeOf(kind),
		});
	}
	fields.sort((a, b) => a.number - b.number);
	const byNumber = new Map(fields.map((f) => [f.number, f]));
	const typeName = desc.typeName;
	return {
		encode(message, reserve = 0) {
			const w = new Writer(reserve);
			const m = message as Record<string, unknown>;
			for (const f of fields) {
				const value = m[f.name];
				if (value === undefined || value === null) continue;
				if (!accepts(f.kind, value)) return undefined;
				writeField(w, f, value);
			}
			return w.finish();
		},
		decode(bytes) {
			const out: Record<string, unknown> = { $typeName: typeName };
			for (const f of fields)
				out[f.name] = f.explicit ? undefined : zero(f.kind);
			const r = new Reader(bytes);
			while (r.pos < r.end) {
				const tag = r.varint32();
				const f = byNumber.get(tag >>> 3);
				if (f === undefined || (tag & 7) !== wireTypeOf(f.kind)) {
					r.skip(tag & 7);
					continue;
				}
				const previous = out[f.name];
				// A repeated message field merges into the earlier occurrence, as protobuf requires.
				out[f.name] =
					f.kind === "struct" && previous !== undefined
						? r.within(() => readStruct(r, previous as JsonObject))
						: readValue(r, f.kind);
			}
			return out;
		},
	};
}

function kindOf(f: DescField): Kind | undefined {
	if (f.oneof !== undefined) return undefined;
	if (f.fieldKind === "message")
		return f.message.typeName === STRUCT ? "struct" : undefined;
	if (f.fieldKind !== "scalar") return undefined;
	switch (f.scalar) {
		case ScalarType.STRING:
			return "string";
		case ScalarType.BOOL:
			return "bool";
		case ScalarType.DOUBLE:
			return "double";
		case ScalarType.INT64:
			return "int64";
		case ScalarType.INT32:
			return "int32";
		default:
			return undefined;
	}
}

function wireTypeOf(kind: Kind): number {
	switch (kind) {
		case "string":
		case "struct":
			return WIRE_LEN;
		case "double":
			return WIRE_FIXED64;
		default:
			return WIRE_VARINT;
	}
}

function zero(kind: Kind): unknown {
	switch (kind) {
		case "string":
			return "";
		case "bool":
			return false;
		case "int64":
			return 0n;
		default:
			return 0;
	}
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether `value` is what `toBinary` takes for a field of this kind (anything else is left to it). */
function accepts(kind: Kind, value: unknown): boolean {
	switch (kind) {
		case "string":
			return typeof value === "string";
		case "bool":
			return typeof value === "boolean";
		case "double":
			return typeof value === "number";
		case "int32":
			return (
				typeof value === "number" &&
				Number.isInteger(value) &&
				value >= -0x80000000 &&
				value <= 0x7fffffff
			);
		case "int64": {
			if (typeof value !== "bigint") return false;
			return value >= INT64_MIN && value <= INT64_MAX;
		}
		case "struct":
			return typeof value === "object" && !Array.isArray(value);
	}
}

function writeField(w: Writer, f: Field, value: unknown): void {
	if (!f.explicit) {
		// Implicit presence: zero values are not written. -0 is not a zero value for doubles (proto3 and toBinary
		// write it); for int32 it is 0.
		if (value === "" || value === false || value === 0n) return;
		if (value === 0 && (f.kind !== "double" || Object.is(value, 0))) return;
		if (f.kind === "int64" && BigInt(value as bigint) === 0n) return;
	}
	w.byte(f.tag);
	switch (f.kind) {
		case "string":
			w.string(value as string);
			return;
		case "bool":
			w.byte(value ? 1 : 0);
			return;
		case "double":
			w.double(value as number);
			return;
		case "int32":
			w.int32(value as number);
			return;
		case "int64":
			w.uint64(BigInt.asUintN(64, BigInt(value as bigint)));
			return;
		case "struct":
			w.lengthDelimited(() => writeStruct(w, value as JsonObject));
	}
}

/** Struct { map<string, Value> fields = 1; } — each entry a message { key = 1; value = 2 }. */
function writeStruct(w: Writer, object: JsonObject): void {
	for (const key of Object.keys(object)) {
		w.byte(0x0a);
		w.lengthDelimited(() => {
			// Map entries always carry their key, even "" (toBinary writes it).
			w.byte(0x0a);
			w.string(key);
			w.byte(0x12);
			w.lengthDelimited(() => writeValue(w, object[key]));
		});
	}
}

/** Value { oneof kind { null_value = 1; number_value = 2; string_value = 3; bool_value = 4; struct_value = 5; list_value = 6 } } */
function writeValue(w: Writer, value: JsonValue | undefined): void {
	switch (typeof value) {
		case "number":
			w.byte(0x11);
			w.double(value);
			return;
		case "string":
			w.byte(0x1a);
			w.string(value);
			return;
		case "boolean":
			w.byte(0x20);
			w.byte(value ? 1 : 0);
			return;
		case "object":
			if (value === null) {
				w.byte(0x08);
				w.byte(0);
			} else if (Array.isArray(value)) {
				w.byte(0x32);
				w.lengthDelimited(() => {
					// ListValue { repeated Value values = 1; }
					for (const item of value) {
						w.byte(0x0a);
						w.lengthDelimited(() => writeValue(w, item));
					}
				});
			} else {
				w.byte(0x2a);
				w.lengthDelimited(() => writeStruct(w, value));
			}
			return;
		default:
		// Anything else (undefined) is a Value with no kind, as the generic encoder writes it.
	}
}

function readValue(r: Reader, kind: Kind): unknown {
	switch (kind) {
		case "string":
			return r.string();
		case "bool":
			return r.varint32() !== 0;
		case "double":
			return r.double();
		case "int32":
			return r.varint32() | 0;
		case "int64":
			return r.int64();
		case "struct":
			return r.within(() => readStruct(r));
	}
}

function readStruct(r: Reader, into?: JsonObject): JsonObject {
	const object: JsonObject = into ?? {};
	while (r.pos < r.end) {
		const tag = r.varint32();
		if (tag !== 0x0a) {
			r.skip(tag & 7);
			continue;
		}
		r.within(() => {
			let key = "";
			let value: JsonValue = null;
			while (r.pos < r.end) {
				const t = r.varint32();
				if (t === 0x0a) key = r.string();
				else if (t === 0x12) value = r.within(() => readValueMessage(r));
				else r.skip(t & 7);
			}
			if (key === "__proto__") {
				Object.defineProperty(object, key, {
					value,
					enumerable: true,
					writable: true,
					configurable: true,
				});
			} else object[key] = value;
		});
	}
	return object;
}

function readValueMessage(r: Reader): JsonValue {
	let value: JsonValue = null;
	while (r.pos < r.end) {
		const tag = r.varint32();
		switch (tag) {
			case 0x08:
				r.varint32();
				value = null;
				break;
			case 0x11:
				value = r.double();
				break;
			case 0x1a:
				value = r.string();
				break;
			case 0x20:
				value = r.varint32() !== 0;
				break;
			case 0x2a:
				value = r.within(() => readStruct(r));
				break;
			case 0x32:
				value = r.within(() => {
					const list: JsonValue[] = [];
					while (r.pos < r.end) {
						const t = r.varint32();
						if (t === 0x0a) list.push(r.within(() => readValueMessage(r)));
						else r.skip(t & 7);
					}
					return list;
				});
				break;
			default:
				r.skip(tag & 7);
		}
	}
	return value;
}

/** Appends into one growing buffer; nested lengths are written after their content, then moved into place. */
class Writer {
	private buf = Buffer.allocUnsafe(256);
	private pos: number;

	constructor(reserve: number) {
		this.pos = reserve;
	}

	finish(): Uint8Array {
		return this.buf.subarray(0, this.pos);
	}

	private ensure(n: number): void {
		if (this.pos + n <= this.buf.length) return;
		const next = Buffer.allocUnsafe(
			Math.max(this.buf.length * 2, this.pos + n),
		);
		this.buf.copy(next, 0, 0, this.pos);
		this.buf = next;
	}

	byte(b: number): void {
		this.ensure(1);
		this.buf[this.pos++] = b;
	}

	varint(n: number): void {
		this.ensure(5);
		while (n > 0x7f) {
			this.buf[this.pos++] = (n & 0x7f) | 0x80;
			n >>>= 7;
		}
		this.buf[this.pos++] = n;
	}

	int32(n: number): void {
		if (n >= 0) this.varint(n);
		else this.uint64(BigInt.asUintN(64, BigInt(n)));
	}

	uint64(n: bigint): void {
		this.ensure(10);
		while (n > 0x7fn) {
			this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
			n >>= 7n;
		}
		this.buf[this.pos++] = Number(n);
	}

	double(n: number): void {
		this.ensure(8);
		this.buf.writeDoubleLE(n, this.pos);
		this.pos += 8;
	}

	string(s: string): void {
		this.ensure(s.length * 3 + 5);
		// Short ASCII strings (keys, flag names, most context values): one byte per char, copied by hand.
		if (s.length < 128) {
			const start = this.pos + 1;
			let i = 0;
			for (; i < s.length; i++) {
				const c = s.charCodeAt(i);
				if (c > 0x7f) break;
				this.buf[start + i] = c;
			}
			if (i === s.length) {
				this.buf[this.pos] = s.length;
				this.pos = start + s.length;
				return;
			}
		}
		const length = Buffer.byteLength(s, "utf8");
		this.varint(length);
		this.buf.write(s, this.pos, length, "utf8");
		this.pos += length;
	}

	/** Writes what `body` writes, preceded by its length as a varint. */
	lengthDelimited(body: () => void): void {
		// Reserve one byte for the length (most nested messages are short); widen afterwards if needed.
		this.ensure(1);
		const lengthAt = this.pos++;
		body();
		const length = this.pos - lengthAt - 1;
		if (length < 0x80) {
			this.buf[lengthAt] = length;
			return;
		}
		const extra = varintSize(length) - 1;
		this.ensure(extra);
		this.buf.copy(this.buf, lengthAt + 1 + extra, lengthAt + 1, this.pos);
		this.pos += extra;
		let n = length;
		let at = lengthAt;
		while (n > 0x7f) {
			this.buf[at++] = (n & 0x7f) | 0x80;
			n >>>= 7;
		}
		this.buf[at] = n;
	}
}

function varintSize(n: number): number {
	let size = 1;
	while (n > 0x7f) {
		n >>>= 7;
		size++;
	}
	return size;
}

class Reader {
	pos = 0;
	end: number;
	private readonly buf: Buffer;

	constructor(bytes: Uint8Array) {
		this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
		this.end = bytes.byteLength;
	}

	varint32(): number {
		let result = 0;
		let shift = 0;
		for (;;) {
			const b = this.byte();
			if (shift < 32) result |= (b & 0x7f) << shift;
			if (b < 0x80) return result >>> 0;
			shift += 7;
			if (shift > 63) throw new Error("invalid varint");
		}
	}

	int64(): bigint {
		let result = 0n;
		let shift = 0n;
		for (;;) {
			const b = this.byte();
			result |= BigInt(b & 0x7f) << shift;
			if (b < 0x80) return BigInt.asIntN(64, result);
			shift += 7n;
			if (shift > 63n) throw new Error("invalid varint");
		}
	}

	double(): number {
		this.need(8);
		const v = this.buf.readDoubleLE(this.pos);
		this.pos += 8;
		return v;
	}

	string(): string {
		const length = this.varint32();
		this.need(length);
		const s = this.buf.toString("utf8", this.pos, this.pos + length);
		// Invalid sequences decode to U+FFFD; only then is it worth checking whether the bytes were valid.
		if (
			s.includes("\uFFFD") &&
			!isUtf8(this.buf.subarray(this.pos, this.pos + length))
		) {
			throw new Error("invalid UTF-8 in a string field");
		}
		this.pos += length;
		return s;
	}

	/** Runs `read` over the next length-delimited range only. */
	within<T>(read: () => T): T {
		const length = this.varint32();
		this.need(length);
		const outer = this.end;
		this.end = this.pos + length;
		try {
			return read();
		} finally {
			this.pos = this.end;
			this.end = outer;
		}
	}

	skip(wireType: number): void {
		switch (wireType) {
			case WIRE_VARINT:
				while (this.byte() >= 0x80);
				return;
			case WIRE_FIXED64:
				this.need(8);
				this.pos += 8;
				return;
			case WIRE_LEN: {
				const length = this.varint32();
				this.need(length);
				this.pos += length;
				return;
			}
			case WIRE_FIXED32:
				this.need(4);
				this.pos += 4;
				return;
			default:
				throw new Error(`cannot skip wire type ${wireType}`);
		}
	}

	private byte(): number {
		this.need(1);
		return this.buf[this.pos++] as number;
	}

	private need(n: number): void {
		if (this.pos + n > this.end) throw new Error("premature end of message");
	}
}
