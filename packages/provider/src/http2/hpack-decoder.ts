/**
 * HPACK decoder (RFC 7541) for response header blocks.
 *
 * Strict: every malformed block throws HpackError, after which the decoder (and the connection) must not be used
 * again, so nothing is rolled back. The dynamic table is a ring buffer of parallel name/value arrays, so indexed
 * lookups are O(1) and insertion/eviction allocate nothing beyond the strings themselves.
 */
import { HpackError } from "./hpack-error.js";
import { huffmanDecode } from "./hpack-huffman.js";
import { STATIC_TABLE, STATIC_TABLE_LENGTH } from "./hpack-static-table.js";

/** RFC 7541 §4.1: an entry's size is its name and value length in octets plus 32. */
const ENTRY_OVERHEAD = 32;

/**
 * Largest integer accepted anywhere in a block. Nothing legitimate comes close (indices are below a few thousand,
 * string lengths below the header list limit), and the bound keeps the arithmetic in small integers.
 */
const MAX_INTEGER = 2 ** 28;

type Latin1Slicer = { latin1Slice(start: number, end: number): string };
const latin1Slice = (Buffer.prototype as unknown as Latin1Slicer).latin1Slice;

function latin1(bytes: Uint8Array, start: number, end: number): string {
	const length = end - start;
	if (length === 0) return "";
	// For very short strings building the string directly beats the native call.
	if (length <= 8) {
		let s = "";
		for (let i = start; i < end; i++)
			s += String.fromCharCode(bytes[i] as number);
		return s;
	}
	return latin1Slice.call(bytes, start, end);
}

export class HpackDecoder {
	private readonly maxTableSizeBytes: number;
	private readonly maxHeaderListBytes: number;
	/** The current dynamic table size limit, as last set by a size update (initially the advertised maximum). */
	private tableLimit: number;
	private size = 0;
	// Ring buffer: `count` entries, the newest at `(head - 1) mod capacity`, the oldest at `(head - count) mod capacity`.
	private readonly names: string[];
	private readonly values: string[];
	private readonly capacity: number;
	private head = 0;
	private count = 0;
	/** Read position inside the block being decoded (a field, so readInteger/readString need not return pairs). */
	private pos = 0;

	constructor(maxTableSizeBytes = 4096, maxHeaderListBytes = 65536) {
		if (
			!Number.isInteger(maxTableSizeBytes) ||
			maxTableSizeBytes < 0 ||
			maxTableSizeBytes > MAX_INTEGER
		) {
			throw new RangeError(`invalid HPACK table size ${maxTableSizeBytes}`);
		}
		if (!Number.isInteger(maxHeaderListBytes) || maxHeaderListBytes < 0) {
			throw new RangeError(`invalid header list size ${maxHeaderListBytes}`);
		}
		this.maxTableSizeBytes = maxTableSizeBytes;
		this.maxHeaderListBytes = maxHeaderListBytes;
		this.tableLimit = maxTableSizeBytes;
		// Every entry takes at least 32 octets, so this many slots can never overflow.
		this.capacity = Math.max(1, Math.floor(maxTableSizeBytes / ENTRY_OVERHEAD));
		this.names = new Array<string>(this.capacity).fill("");
		this.values = new Array<string>(this.capacity).fill("");
	}

	/** Current dynamic table size in octets (RFC 7541 §4.1). */
	get tableSize(): number {
		return this.size;
	}

	/** Current dynamic table size limit (the last size update, or the advertised maximum). */
	get tableMaxSize(): number {
		return this.tableLimit;
	}

	/** The dynamic table, newest entry (HPACK index 62) first. A copy, for inspection. */
	tableEntries(): (readonly [string, string])[] {
		const entries: (readonly [string, string])[] = [];
		for (let i = 1; i <= this.count; i++) {
			const slot = (this.head - i + this.capacity) % this.capacity;
			entries.push([this.names[slot] as string, this.values[slot] as string]);
		}
		return entries;
	}

	/**
	 * Decodes one complete header block (all CONTINUATION fragments already joined). Calls onField for each field in
	 * order. Throws HpackError on any malformed input.
	 */
	decode(
		block: Uint8Array,
		onField: (name: string, value: string) => void,
	): void {
		const end = block.length;
		let listSize = 0;
		let sawField = false;
		this.pos = 0;
		while (this.pos < end) {
			const first = block[this.pos] as number;
			let name: string;
			let value: string;
			if (first & 0x80) {
				// Indexed header field (§6.1).
				const index = this.readInteger(block, 7);
				if (index === 0)
					throw new HpackError("indexed header field with index 0");
				if (index <= STATIC_TABLE_LENGTH) {
					const entry = STATIC_TABLE[index] as readonly [string, string];
					name = entry[0];
					value = entry[1];
				} else {
					const slot = this.slotOf(index);
					name = this.names[slot] as string;
					value = this.values[slot] as string;
				}
			} else if (first & 0x40) {
				// Literal with incremental indexing (§6.2.1).
				name = this.readName(block, 6);
				value = this.readString(block);
				this.insert(name, value);
			} else if (first & 0x20) {
				// Dynamic table size update (§6.3): only before the first field of a block (§4.2).
				if (sawField)
					throw new HpackError(
						"dynamic table size update after a header field",
					);
				const limit = this.readInteger(block, 5);
				if (limit > this.maxTableSizeBytes) {
					throw new HpackError(
						`dynamic table size update to ${limit} exceeds the limit ${this.maxTableSizeBytes}`,
					);
				}
				this.tableLimit = limit;
				this.evictTo(limit);
				continue;
			} else {
				// Literal without indexing (0000xxxx, §6.2.2) or never indexed (0001xxxx, §6.2.3): same layout.
				name = this.readName(block, 4);
				value = this.readString(block);
			}
			sawField = true;
			listSize += name.length + value.length + ENTRY_OVERHEAD;
			if (listSize > this.maxHeaderListBytes) {
				throw new HpackError(
					`header list larger than ${this.maxHeaderListBytes} octets`,
				);
			}
			onField(name, value);
		}
	}

	/** Ring slot of dynamic-table entry with HPACK index `index` (> 61). */
	private slotOf(index: number): number {
		const i = index - STATIC_TABLE_LENGTH;
		if (i > this.count)
			throw new HpackError(`index ${index} is beyond the header table`);
		const slot = this.head - i;
		return slot < 0 ? slot + this.capacity : slot;
	}

	/** Reads an integer with an `prefixBits`-bit prefix at `this.pos` (§5.1). */
	private readInteger(block: Uint8Array, prefixBits: number): number {
		const mask = (1 << prefixBits) - 1;
		let pos = this.pos;
		let value = (block[pos++] as number) & mask;
		if (value === mask) {
			let shift = 0;
			let byte: number;
			do {
				if (pos >= block.length) throw new HpackError("truncated integer");
				// Four continuation octets carry 28 bits, already past MAX_INTEGER; a fifth can only overflow.
				if (shift > 21) throw new HpackError("integer overflow");
				byte = block[pos++] as number;
				value += (byte & 0x7f) << shift;
				shift += 7;
			} while (byte & 0x80);
			if (value > MAX_INTEGER) throw new HpackError("integer overflow");
		}
		this.pos = pos;
		return value;
	}

	/** Reads a string literal (§5.2) at `this.pos`. */
	private readString(block: Uint8Array): string {
		if (this.pos >= block.length)
			throw new HpackError("truncated header block");
		const huffman = ((block[this.pos] as number) & 0x80) !== 0;
		const length = this.readInteger(block, 7);
		const start = this.pos;
		const end = start + length;
		if (end > block.length) throw new HpackError("truncated string literal");
		this.pos = end;
		return huffman
			? huffmanDecode(block, start, end)
			: latin1(block, start, end);
	}

	/** Reads the name of a literal representation: an index with a `prefixBits`-bit prefix, or a string if it is 0. */
	private readName(block: Uint8Array, prefixBits: number): string {
		const index = this.readInteger(block, prefixBits);
		if (index === 0) return this.readString(block);
		if (index <= STATIC_TABLE_LENGTH)
			return (STATIC_TABLE[index] as readonly [string, string])[0];
		return this.names[this.slotOf(index)] as string;
	}

	/** Adds an entry (§4.4): evicts until it fits; an entry larger than the limit just empties the table. */
	private insert(name: string, value: string): void {
		const entrySize = name.length + value.length + ENTRY_OVERHEAD;
		if (entrySize > this.tableLimit) {
			this.evictTo(0);
			return;
		}
		this.evictTo(this.tableLimit - entrySize);
		this.names[this.head] = name;
		this.values[this.head] = value;
		this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
		this.count++;
		this.size += entrySize;
	}

	/** Evicts the oldest entries until the table size is at most `limit`. */
	private evictTo(limit: number): void {
		while (this.size > limit) {
			let oldest = this.head - this.count;
			if (oldest < 0) oldest += this.capacity;
			this.size -=
				(this.names[oldest] as string).length +
				(this.values[oldest] as string).length +
				ENTRY_OVERHEAD;
			// Drop the references so evicted strings can be collected.
			this.names[oldest] = "";
			this.values[oldest] = "";
			this.count--;
		}
	}
}
