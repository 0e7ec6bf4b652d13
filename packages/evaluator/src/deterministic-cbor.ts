/**
 * Deterministic CBOR (RFC 8949 §4.2.1, "core deterministic encoding") of JSON values, as the accepted flagd ADR
 * `fractional-non-string-rand-units.md` ("fractional v3") hashes bucketing values. Numbers follow the ADR's rules
 * for values decoded as float64: whole values in [-2^63, 2^64 - 1] are CBOR integers (`-0` is 0), anything else is
 * the shortest of float16/float32/float64 that holds the value exactly. Map keys are sorted by their encoded bytes.
 */

/** Growable byte buffer. */
class ByteWriter {
	private bytes = new Uint8Array(64);
	length = 0;

	private reserve(extra: number): void {
		if (this.length + extra <= this.bytes.length) return;
		let size = this.bytes.length * 2;
		while (size < this.length + extra) size *= 2;
		const next = new Uint8Array(size);
		next.set(this.bytes.subarray(0, this.length));
		this.bytes = next;
	}

	push(...values: number[]): void {
		this.reserve(values.length);
		for (const value of values) this.bytes[this.length++] = value;
	}

	append(chunk: Uint8Array): void {
		this.reserve(chunk.length);
		this.bytes.set(chunk, this.length);
		this.length += chunk.length;
	}

	result(): Uint8Array {
		return this.bytes.slice(0, this.length);
	}
}

const encoder = new TextEncoder();
const TWO_POW_64 = 2 ** 64;
const TWO_POW_63 = 2 ** 63;

/** Writes a major type with its argument in the shortest form. */
function writeHead(
	out: ByteWriter,
	major: number,
	argument: number | bigint,
): void {
	const type = major << 5;
	if (typeof argument === "bigint" || argument > 0xffffffff) {
		const big = BigInt(argument);
		out.push(type | 27);
		for (let shift = 56n; shift >= 0n; shift -= 8n)
			out.push(Number((big >> shift) & 0xffn));
	} else if (argument < 24) {
		out.push(type | argument);
	} else if (argument <= 0xff) {
		out.push(type | 24, argument);
	} else if (argument <= 0xffff) {
		out.push(type | 25, argument >>> 8, argument & 0xff);
	} else {
		out.push(
			type | 26,
			argument >>> 24,
			(argument >>> 16) & 0xff,
			(argument >>> 8) & 0xff,
			argument & 0xff,
		);
	}
}

/** The float16 bits of `value` when float16 holds it exactly, else `undefined`. */
export function exactFloat16Bits(value: number): number | undefined {
	if (!Number.isFinite(value)) return undefined;
	const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
	const magnitude = Math.abs(value);
	if (magnitude === 0) return sign;
	if (magnitude < 2 ** -14) {
		const mantissa = magnitude * 2 ** 24; // subnormal: m × 2^-24, m in 1..1023
		return Number.isInteger(mantissa) && mantissa <= 1023
			? sign | mantissa
			: undefined;
	}
	let exponent = Math.floor(Math.log2(magnitude));
	// log2 can be off by one near powers of two; correct it so 2^e <= magnitude < 2^(e+1).
	if (2 ** exponent > magnitude) exponent--;
	else if (2 ** (exponent + 1) <= magnitude) exponent++;
	if (exponent > 15) return undefined;
	const fraction = (magnitude / 2 ** exponent - 1) * 1024;
	return Number.isInteger(fraction)
		? sign | ((exponent + 15) << 10) | fraction
		: undefined;
}

function writeNumber(out: ByteWriter, value: number): void {
	if (Number.isInteger(value) && value >= -TWO_POW_63 && value < TWO_POW_64) {
		if (value >= 0)
			writeHead(
				out,
				0,
				value <= Number.MAX_SAFE_INTEGER ? value : BigInt(value),
			);
		else
			writeHead(
				out,
				1,
				value >= -Number.MAX_SAFE_INTEGER ? -1 - value : -1n - BigInt(value),
			);
		return;
	}
	const half = exactFloat16Bits(value);
	if (half !== undefined) {
		out.push(0xf9, half >>> 8, half & 0xff);
		return;
	}
	const view = new DataView(new ArrayBuffer(8));
	if (Math.fround(value) === value || Number.isNaN(value)) {
		view.setFloat32(0, value);
		out.push(0xfa);
		out.append(new Uint8Array(view.buffer, 0, 4));
		return;
	}
	view.setFloat64(0, value);
	out.push(0xfb);
	out.append(new Uint8Array(view.buffer));
}

function writeValue(out: ByteWriter, value: unknown, depth: number): void {
	if (depth > 64) throw new RangeError("value nested too deeply to encode");
	if (value === null || value === undefined) {
		out.push(0xf6);
	} else if (value === true || value === false) {
		out.push(value ? 0xf5 : 0xf4);
	} else if (typeof value === "number") {
		writeNumber(out, value);
	} else if (typeof value === "string") {
		const bytes = encoder.encode(value);
		writeHead(out, 3, bytes.length);
		out.append(bytes);
	} else if (Array.isArray(value)) {
		writeHead(out, 4, value.length);
		for (const item of value) writeValue(out, item, depth + 1);
	} else if (typeof value === "object") {
		const entries = Object.keys(value).map((key) => {
			const keyOut = new ByteWriter();
			writeValue(keyOut, key, depth + 1);
			return {
				key: keyOut.result(),
				value: (value as Record<string, unknown>)[key],
			};
		});
		entries.sort((a, b) => compareBytes(a.key, b.key));
		writeHead(out, 5, entries.length);
		for (const entry of entries) {
			out.append(entry.key);
			writeValue(out, entry.value, depth + 1);
		}
	} else {
		throw new TypeError(`cannot encode a ${typeof value} as CBOR`);
	}
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) {
		if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
	}
	return a.length - b.length;
}

/** Deterministic CBOR bytes of a JSON value. Throws (TypeError/RangeError) for non-JSON or absurdly deep input. */
export function encodeDeterministicCbor(value: unknown): Uint8Array {
	const out = new ByteWriter();
	writeValue(out, value, 0);
	return out.result();
}
