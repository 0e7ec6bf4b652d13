import murmurhash from "murmurhash";

/**
 * MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of a string, as Go's murmur3 `StringSum32` computes it
 * (flagd's `fractional`). ASCII input (the common case: e-mail addresses, ids) is hashed straight from char codes,
 * which is byte-for-byte the same input because UTF-8 encodes U+0000..U+007F as single identical bytes; any other
 * input goes through `murmurhash@2.0.1`'s `v3`, which hashes the TextEncoder UTF-8 bytes (unlike `imurmurhash`,
 * which hashes UTF-16 code units and differs from Go for non-ASCII keys). Results are unsigned 32-bit integers.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
	let x = Math.imul(k, C1);
	x = (x << 15) | (x >>> 17);
	return Math.imul(x, C2);
}

function mixBlock(h: number, k: number): number {
	let x = h ^ mixK(k);
	x = (x << 13) | (x >>> 19);
	return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

function finalize(
	h: number,
	pending: number,
	pendingLength: number,
	totalLength: number,
): number {
	let x = pendingLength === 0 ? h : h ^ mixK(pending);
	x ^= totalLength;
	x ^= x >>> 16;
	x = Math.imul(x, 0x85ebca6b);
	x ^= x >>> 13;
	x = Math.imul(x, 0xc2b2ae35);
	x ^= x >>> 16;
	return x >>> 0;
}

/** Hash state after some ASCII input: `h` over the full 4-byte blocks, plus 0-3 pending bytes. */
interface AsciiState {
	readonly h: number;
	readonly pending: number;
	readonly pendingLength: number;
}

/**
 * Continues the hash over `text`; returns `undefined` as soon as it is clear that `text` is not all ASCII (the
 * caller then hashes the UTF-8 bytes of the whole input with the library). The ASCII check is folded into the
 * hashing loop, so ASCII input is read once.
 */
function continueAscii(
	state: AsciiState,
	text: string,
): AsciiState | undefined {
	let { h, pending, pendingLength } = state;
	const length = text.length;
	let i = 0;
	let mask = 0;
	while (pendingLength !== 0 && pendingLength < 4 && i < length) {
		const c = text.charCodeAt(i++);
		mask |= c;
		pending |= c << (8 * pendingLength++);
	}
	if (pendingLength === 4) {
		h = mixBlock(h, pending);
		pending = 0;
		pendingLength = 0;
	}
	const blocksEnd = i + ((length - i) & ~3);
	while (i < blocksEnd) {
		const c0 = text.charCodeAt(i);
		const c1 = text.charCodeAt(i + 1);
		const c2 = text.charCodeAt(i + 2);
		const c3 = text.charCodeAt(i + 3);
		mask |= c0 | c1 | c2 | c3;
		h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
		i += 4;
	}
	while (i < length) {
		const c = text.charCodeAt(i++);
		mask |= c;
		pending |= c << (8 * pendingLength++);
	}
	return mask > 0x7f ? undefined : { h, pending, pendingLength };
}

const EMPTY: AsciiState = { h: 0, pending: 0, pendingLength: 0 };

/** MurmurHash3 x86_32 (seed 0) of the UTF-8 bytes of `text`, unsigned. */
export function murmur3Utf8(text: string): number {
	const state = continueAscii(EMPTY, text);
	if (state === undefined) return murmurhash.v3(text, 0) >>> 0;
	return finalize(state.h, state.pending, state.pendingLength, text.length);
}

/**
 * A hasher for `prefix + suffix` with the prefix hashed once: `fractional` buckets by flag key + targeting key,
 * and the flag key is fixed per compiled flag. Equal to `murmur3Utf8(prefix + suffix)` for every input, without
 * building the concatenated string on the ASCII path.
 */
export function murmur3Utf8WithPrefix(
	prefix: string,
): (suffix: string) => number {
	const prefixState = continueAscii(EMPTY, prefix);
	if (prefixState === undefined)
		return (suffix) => murmurhash.v3(prefix + suffix, 0) >>> 0;
	const prefixLength = prefix.length;
	return (suffix) => {
		const state = continueAscii(prefixState, suffix);
		if (state === undefined) return murmurhash.v3(prefix + suffix, 0) >>> 0;
		return finalize(
			state.h,
			state.pending,
			state.pendingLength,
			prefixLength + suffix.length,
		);
	};
}
