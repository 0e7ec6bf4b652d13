/**
 * HPACK encoder for request header blocks. It never uses the dynamic table: every field is either a static-table
 * index (a full match) or a literal without indexing, so the peer's decoder state never depends on what we sent
 * and our blocks can be built independently of one another (no ordering constraint between streams).
 */
import { huffmanEncodedLength, huffmanEncodeInto } from "./hpack-huffman.js";
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX } from "./hpack-static-table.js";

/** Size of an HPACK integer with a `prefixBits`-bit prefix (§5.1). */
function integerSize(value: number, prefixBits: number): number {
	const mask = (1 << prefixBits) - 1;
	if (value < mask) return 1;
	let size = 2;
	for (let rest = value - mask; rest >= 0x80; rest >>>= 7) size++;
	return size;
}

/** Writes an HPACK integer; `flags` are the representation bits above the prefix. Returns the next position. */
function writeInteger(
	out: Uint8Array,
	pos: number,
	value: number,
	prefixBits: number,
	flags: number,
): number {
	const mask = (1 << prefixBits) - 1;
	if (value < mask) {
		out[pos++] = flags | value;
		return pos;
	}
	out[pos++] = flags | mask;
	let rest = value - mask;
	while (rest >= 0x80) {
		out[pos++] = (rest & 0x7f) | 0x80;
		rest >>>= 7;
	}
	out[pos++] = rest;
	return pos;
}

function checkName(name: string): void {
	if (name.length === 0) throw new TypeError("HPACK: empty header name");
	for (let i = 0; i < name.length; i++) {
		const c = name.charCodeAt(i);
		// HTTP/2 requires lowercase names (RFC 7540 §8.1.2); controls, space, DEL and non-ASCII are never valid, and
		// ':' only starts a pseudo-header.
		if (
			(c >= 0x41 && c <= 0x5a) ||
			c <= 0x20 ||
			c >= 0x7f ||
			(c === 0x3a && i > 0)
		) {
			throw new TypeError(`HPACK: invalid header name ${JSON.stringify(name)}`);
		}
	}
}

function checkValue(name: string, value: string): void {
	for (let i = 0; i < value.length; i++) {
		const c = value.charCodeAt(i);
		// CR, LF and NUL would let a value smuggle extra header lines past an HTTP/1 hop (header injection).
		if (c === 0x0d || c === 0x0a || c === 0x00) {
			throw new TypeError(
				`HPACK: header ${name} has a value with CR, LF or NUL`,
			);
		}
		if (c > 0xff)
			throw new TypeError(`HPACK: header ${name} has a non-latin1 value`);
	}
}

/**
 * Encoded string literal: Huffman when strictly shorter (§5.2). `huffmanLength` is huffmanEncodedLength(s).
 */
function stringSize(s: string, huffmanLength: number): number {
	const length = Math.min(huffmanLength, s.length);
	return integerSize(length, 7) + length;
}

function writeString(
	out: Uint8Array,
	pos: number,
	s: string,
	huffmanLength: number,
): number {
	if (huffmanLength < s.length) {
		pos = writeInteger(out, pos, huffmanLength, 7, 0x80);
		return huffmanEncodeInto(s, out, pos);
	}
	pos = writeInteger(out, pos, s.length, 7, 0);
	for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
	return pos;
}

/**
 * Encoded name part of a literal without indexing (0000xxxx + name), per name. Names repeat on every request, so
 * they are encoded once; the cache is bounded because custom metadata names come from callers.
 */
const namePrefixes = new Map<string, Uint8Array>();
const NAME_CACHE_LIMIT = 256;

function namePrefix(name: string): Uint8Array {
	let prefix = namePrefixes.get(name);
	if (prefix !== undefined) return prefix;
	checkName(name);
	const index = STATIC_NAME_INDEX.get(name);
	if (index !== undefined) {
		prefix = new Uint8Array(integerSize(index, 4));
		writeInteger(prefix, 0, index, 4, 0x00);
	} else {
		const huffmanLength = huffmanEncodedLength(name);
		prefix = new Uint8Array(1 + stringSize(name, huffmanLength));
		prefix[0] = 0x00;
		writeString(prefix, 1, name, huffmanLength);
	}
	if (namePrefixes.size < NAME_CACHE_LIMIT) namePrefixes.set(name, prefix);
	return prefix;
}

/**
 * Literal header field without indexing (0000xxxx), name by static-table index when the name is in the static
 * table, else literal name; value Huffman-coded when that is shorter. Names must be lowercase (throw otherwise).
 */
export function encodeField(name: string, value: string): Uint8Array {
	const prefix = namePrefix(name);
	checkValue(name, value);
	const huffmanLength = huffmanEncodedLength(value);
	const out = Buffer.allocUnsafe(
		prefix.length + stringSize(value, huffmanLength),
	);
	out.set(prefix, 0);
	writeString(out, prefix.length, value, huffmanLength);
	return out;
}

// Per-call scratch for encodeHeaderBlock: the static index (> 0) of a full match, else the value's Huffman length
// stored as -(length + 1). Reused so a block costs one allocation (the result).
let plan = new Int32Array(16);

/**
 * Concatenation of the fields; a field with a full static-table match (name and value, e.g. ":method POST" = 0x83,
 * ":scheme http" = 0x86, ":scheme https" = 0x87) uses the 1-byte indexed form, every other field encodeField's form.
 *
 * `tableSizeUpdate`, when given, starts the block with a dynamic table size update (001xxxxx) to that size. The
 * connection layer must pass 0 on the first block it sends after acknowledging a SETTINGS frame that carries
 * SETTINGS_HEADER_TABLE_SIZE: RFC 7541 §4.2 requires the encoder to signal a change of the peer's limit, and
 * nghttp2 answers a reduced limit that is not signalled with GOAWAY(COMPRESSION_ERROR). Since we never insert
 * entries, 0 is always a valid size to signal.
 */
export function encodeHeaderBlock(
	fields: readonly (readonly [string, string])[],
	tableSizeUpdate?: number,
): Uint8Array {
	if (plan.length < fields.length)
		plan = new Int32Array(Math.max(fields.length, plan.length * 2));
	let size = 0;
	if (tableSizeUpdate !== undefined) {
		if (
			!Number.isInteger(tableSizeUpdate) ||
			tableSizeUpdate < 0 ||
			tableSizeUpdate > 2 ** 28
		) {
			throw new RangeError(
				`HPACK: invalid table size update ${tableSizeUpdate}`,
			);
		}
		size += integerSize(tableSizeUpdate, 5);
	}
	for (let i = 0; i < fields.length; i++) {
		const [name, value] = fields[i] as readonly [string, string];
		const full = STATIC_FIELD_INDEX.get(name)?.get(value);
		if (full !== undefined) {
			plan[i] = full;
			size += 1;
			continue;
		}
		const prefix = namePrefix(name);
		checkValue(name, value);
		const huffmanLength = huffmanEncodedLength(value);
		plan[i] = -(huffmanLength + 1);
		size += prefix.length + stringSize(value, huffmanLength);
	}
	// Small blocks come from Buffer's pool; allocUnsafe is safe because every octet is written below.
	const out = Buffer.allocUnsafe(size);
	let pos = 0;
	if (tableSizeUpdate !== undefined)
		pos = writeInteger(out, pos, tableSizeUpdate, 5, 0x20);
	for (let i = 0; i < fields.length; i++) {
		const [name, value] = fields[i] as readonly [string, string];
		const step = plan[i] as number;
		if (step > 0) {
			// Static indices are at most 61, so the indexed form (1xxxxxxx, 7-bit prefix) is one octet.
			out[pos++] = 0x80 | step;
			continue;
		}
		const prefix = namePrefix(name);
		out.set(prefix, pos);
		pos += prefix.length;
		pos = writeString(out, pos, value, -step - 1);
	}
	return out;
}
