/**
 * The HPACK Huffman code (RFC 7541 Appendix B).
 *
 * The code is canonical: within one length, codes increase with the symbol, and each length's first code follows
 * the previous length's last one. So the 257 code lengths below determine every code; the codes are derived at
 * module load and the derivation checks that the lengths form a complete prefix code.
 *
 * Decoding runs a 4-bit state machine (the approach nghttp2 uses): a state is an internal node of the code tree,
 * and one table read per nibble gives the next state and, at most, one decoded symbol (the shortest code is 5 bits,
 * so a nibble can complete at most one). That is two reads per input byte and no per-bit work.
 */
import { HpackError } from "./hpack-error.js";

/** Code length in bits of symbols 0..255 and EOS (256), 16 per row, in the order of Appendix B. */
// biome-ignore format: laid out to be read against the appendix row by row
const CODE_LENGTHS: readonly number[] = [
	13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0..15
	28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16..31
	6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          32..47  ' ' .. '/'
	5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //               48..63  '0' .. '?'
	13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                 64..79  '@' .. 'O'
	7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //              80..95  'P' .. '_'
	15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                 96..111 '`' .. 'o'
	6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            112..127 'p' .. DEL
	20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
	24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
	22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
	21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
	26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
	19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
	20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
	26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
	30, //                                                             256 EOS
];

const EOS = 256;

/** Code of each symbol, right-aligned (the "code as hex" column of Appendix B). */
const CODES = new Uint32Array(257);
/** Length of each symbol's code, as a typed array for the encoder's hot loop. */
const LENGTHS = new Uint8Array(257);

// Decoder transition table: 256 states × 16 nibbles. Entry layout: bits 0-7 next state, bits 8-15 symbol,
// bit 16 "a symbol was completed", bit 17 "EOS was decoded" (a decoding error).
const NEXT_MASK = 0xff;
const EMIT = 1 << 16;
const FAIL = 1 << 17;
const TRANSITIONS = new Uint32Array(256 * 16);
/**
 * 1 for the states a string may end in: the root, or a node reached from it by at most 7 one-bits. Those are the
 * only valid paddings (RFC 7541 §5.2: at most 7 bits, the most significant bits of EOS, which is all ones).
 */
const ACCEPTING = new Uint8Array(256);

function buildTables(): void {
	if (CODE_LENGTHS.length !== 257)
		throw new Error("HPACK Huffman: need 257 code lengths");
	for (let s = 0; s < 257; s++) LENGTHS[s] = CODE_LENGTHS[s] as number;

	// Canonical assignment in (length, symbol) order.
	const order = Array.from({ length: 257 }, (_, s) => s).sort(
		(a, b) => (LENGTHS[a] as number) - (LENGTHS[b] as number) || a - b,
	);
	let code = 0;
	let prevLength = 0;
	for (const s of order) {
		const length = LENGTHS[s] as number;
		code *= 2 ** (length - prevLength);
		prevLength = length;
		CODES[s] = code;
		code++;
	}
	// A complete prefix code (every bit string is a prefix of some code) ends exactly at 2^maxLength.
	if (code !== 2 ** prevLength)
		throw new Error("HPACK Huffman: code lengths do not form a complete code");

	// The code tree. Internal nodes are numbered from 0 (the root); a child slot holds an internal node number, or
	// -(symbol + 1) for a leaf. A complete code over 257 symbols has exactly 256 internal nodes.
	const children = new Int32Array(256 * 2).fill(0x7fffffff);
	let nodeCount = 1;
	for (let s = 0; s < 257; s++) {
		const length = LENGTHS[s] as number;
		const c = CODES[s] as number;
		let node = 0;
		for (let bit = length - 1; bit >= 0; bit--) {
			const slot = node * 2 + (Math.floor(c / 2 ** bit) & 1);
			if (bit === 0) {
				children[slot] = -(s + 1);
			} else {
				let next = children[slot] as number;
				if (next === 0x7fffffff) {
					next = nodeCount++;
					children[slot] = next;
				}
				node = next;
			}
		}
	}
	if (nodeCount !== 256)
		throw new Error("HPACK Huffman: unexpected tree shape");

	// Accepting states: follow 1-bits from the root for up to 7 steps.
	let node = 0;
	ACCEPTING[0] = 1;
	for (let depth = 1; depth <= 7; depth++) {
		node = children[node * 2 + 1] as number;
		ACCEPTING[node] = 1;
	}

	for (let state = 0; state < 256; state++) {
		for (let nibble = 0; nibble < 16; nibble++) {
			let current = state;
			let entry = 0;
			for (let bit = 3; bit >= 0; bit--) {
				const child = children[current * 2 + ((nibble >> bit) & 1)] as number;
				if (child >= 0) {
					current = child;
					continue;
				}
				const symbol = -child - 1;
				if (symbol === EOS) {
					entry = FAIL;
					break;
				}
				entry = EMIT | (symbol << 8);
				current = 0;
			}
			TRANSITIONS[state * 16 + nibble] = entry & FAIL ? FAIL : entry | current;
		}
	}
}

buildTables();

/** Scratch output for the decoder, grown on demand; strings are sliced out of it, so it is never handed out. */
let scratch = Buffer.allocUnsafe(256);

type Latin1Slicer = { latin1Slice(start: number, end: number): string };

/**
 * Decodes the Huffman-coded string in `bytes[start..end)` to a latin1 string. Throws HpackError when the EOS
 * symbol is decoded, or when the padding is longer than 7 bits or not all ones.
 */
export function huffmanDecode(
	bytes: Uint8Array,
	start: number,
	end: number,
): string {
	// Every symbol is at least 5 bits long, so the output is at most 8/5 of the input.
	const maxOut = (((end - start) * 8) / 5) | 0;
	if (scratch.length < maxOut)
		scratch = Buffer.allocUnsafe(Math.max(maxOut, scratch.length * 2));
	const out = scratch;
	const table = TRANSITIONS;
	let n = 0;
	let state = 0;
	for (let i = start; i < end; i++) {
		const byte = bytes[i] as number;
		let entry = table[(state << 4) | (byte >> 4)] as number;
		if (entry & FAIL) throw new HpackError("Huffman string contains EOS");
		if (entry & EMIT) out[n++] = (entry >> 8) & 0xff;
		state = entry & NEXT_MASK;
		entry = table[(state << 4) | (byte & 0x0f)] as number;
		if (entry & FAIL) throw new HpackError("Huffman string contains EOS");
		if (entry & EMIT) out[n++] = (entry >> 8) & 0xff;
		state = entry & NEXT_MASK;
	}
	if (ACCEPTING[state] !== 1) throw new HpackError("invalid Huffman padding");
	if (n === 0) return "";
	return (out as unknown as Latin1Slicer).latin1Slice(0, n);
}

function charCodeOf(s: string, i: number): number {
	const c = s.charCodeAt(i);
	if (c > 0xff)
		throw new RangeError(`HPACK: character U+${c.toString(16)} is not latin1`);
	return c;
}

/** Length in octets of the Huffman coding of the latin1 string `s` (with padding). */
export function huffmanEncodedLength(s: string): number {
	let bits = 0;
	for (let i = 0; i < s.length; i++)
		bits += LENGTHS[charCodeOf(s, i)] as number;
	return (bits + 7) >> 3;
}

/**
 * Writes the Huffman coding of `s` into `out` at `pos` and returns the position after it. `out` must have room for
 * `huffmanEncodedLength(s)` octets.
 */
export function huffmanEncodeInto(
	s: string,
	out: Uint8Array,
	pos: number,
): number {
	// `acc` holds the `bits` (< 8) pending low bits; appending at most 24 bits at a time keeps it within 31 bits.
	let acc = 0;
	let bits = 0;
	for (let i = 0; i < s.length; i++) {
		const c = charCodeOf(s, i);
		let code = CODES[c] as number;
		let length = LENGTHS[c] as number;
		if (length > 24) {
			const high = length - 16;
			acc = (acc << high) | (code >>> 16);
			bits += high;
			while (bits >= 8) {
				bits -= 8;
				out[pos++] = (acc >>> bits) & 0xff;
			}
			acc &= (1 << bits) - 1;
			code &= 0xffff;
			length = 16;
		}
		acc = (acc << length) | code;
		bits += length;
		while (bits >= 8) {
			bits -= 8;
			out[pos++] = (acc >>> bits) & 0xff;
		}
		acc &= (1 << bits) - 1;
	}
	// Pad with the most significant bits of EOS (all ones).
	if (bits > 0) out[pos++] = ((acc << (8 - bits)) | (0xff >> bits)) & 0xff;
	return pos;
}

/** The Huffman coding of the latin1 string `s`. */
export function huffmanEncode(s: string): Uint8Array {
	const out = Buffer.allocUnsafe(huffmanEncodedLength(s));
	huffmanEncodeInto(s, out, 0);
	return out;
}
