import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { HpackDecoder } from "./hpack-decoder.js";
import { encodeField, encodeHeaderBlock } from "./hpack-encoder.js";
import { HpackError } from "./hpack-error.js";
import {
	huffmanDecode,
	huffmanEncode,
	huffmanEncodedLength,
} from "./hpack-huffman.js";
import {
	STATIC_FIELD_INDEX,
	STATIC_NAME_INDEX,
	STATIC_TABLE,
} from "./hpack-static-table.js";

type Field = readonly [string, string];

/** Bytes from an RFC-style hex dump ("8286 8441 ..."). */
function hex(dump: string): Uint8Array {
	return Uint8Array.from(Buffer.from(dump.replace(/\s+/g, ""), "hex"));
}

function toHex(bytes: Uint8Array): string {
	return Buffer.from(bytes).toString("hex");
}

function decodeBlock(decoder: HpackDecoder, block: Uint8Array): Field[] {
	const fields: Field[] = [];
	decoder.decode(block, (name, value) => fields.push([name, value]));
	return fields;
}

/** The HpackError `fn` throws (fails the test if it returns or throws anything else). */
function hpackError(fn: () => unknown): HpackError {
	try {
		fn();
	} catch (err: unknown) {
		expect(err).toBeInstanceOf(HpackError);
		const e = err as HpackError;
		expect(e.code).toBe("COMPRESSION_ERROR");
		expect(e.name).toBe("HpackError");
		return e;
	}
	throw new Error("expected an HpackError, nothing was thrown");
}

function decodeError(block: Uint8Array, decoder = new HpackDecoder()): string {
	return hpackError(() => decoder.decode(block, () => {})).message;
}

/** Deterministic PRNG (mulberry32), so a failing random case is reproducible from its seed. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function randomString(
	rand: () => number,
	alphabet: string,
	min: number,
	max: number,
): string {
	const length = min + Math.floor(rand() * (max - min + 1));
	let s = "";
	for (let i = 0; i < length; i++)
		s += alphabet[Math.floor(rand() * alphabet.length)];
	return s;
}

describe("static table", () => {
	it("has the 61 entries of RFC 7541 Appendix A at their indices", () => {
		expect(STATIC_TABLE).toHaveLength(62);
		expect(STATIC_TABLE[1]).toEqual([":authority", ""]);
		expect(STATIC_TABLE[2]).toEqual([":method", "GET"]);
		expect(STATIC_TABLE[8]).toEqual([":status", "200"]);
		expect(STATIC_TABLE[14]).toEqual([":status", "500"]);
		expect(STATIC_TABLE[16]).toEqual(["accept-encoding", "gzip, deflate"]);
		expect(STATIC_TABLE[31]).toEqual(["content-type", ""]);
		expect(STATIC_TABLE[61]).toEqual(["www-authenticate", ""]);
		expect(STATIC_NAME_INDEX.get(":status")).toBe(8);
		expect(STATIC_NAME_INDEX.get("user-agent")).toBe(58);
		expect(STATIC_NAME_INDEX.get("te")).toBeUndefined();
		expect(STATIC_FIELD_INDEX.get(":scheme")?.get("https")).toBe(7);
		expect(STATIC_FIELD_INDEX.get(":status")?.get("201")).toBeUndefined();
	});
});

describe("RFC 7541 Appendix C.2: header field representations", () => {
	it("C.2.1 literal with indexing adds to the dynamic table", () => {
		const decoder = new HpackDecoder();
		expect(
			decodeBlock(
				decoder,
				hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
			),
		).toEqual([["custom-key", "custom-header"]]);
		expect(decoder.tableEntries()).toEqual([["custom-key", "custom-header"]]);
		expect(decoder.tableSize).toBe(55);
	});

	it("C.2.2 literal without indexing leaves the table empty", () => {
		const decoder = new HpackDecoder();
		expect(
			decodeBlock(decoder, hex("040c 2f73 616d 706c 652f 7061 7468")),
		).toEqual([[":path", "/sample/path"]]);
		expect(decoder.tableEntries()).toEqual([]);
		expect(decoder.tableSize).toBe(0);
	});

	it("C.2.3 literal never indexed leaves the table empty", () => {
		const decoder = new HpackDecoder();
		expect(
			decodeBlock(decoder, hex("1008 7061 7373 776f 7264 0673 6563 7265 74")),
		).toEqual([["password", "secret"]]);
		expect(decoder.tableEntries()).toEqual([]);
		expect(decoder.tableSize).toBe(0);
	});

	it("C.2.4 indexed header field", () => {
		const decoder = new HpackDecoder();
		expect(decodeBlock(decoder, hex("82"))).toEqual([[":method", "GET"]]);
		expect(decoder.tableEntries()).toEqual([]);
		expect(decoder.tableSize).toBe(0);
	});
});

interface Step {
	readonly block: string;
	readonly fields: Field[];
	readonly table: Field[];
	readonly size: number;
}

const REQUEST_FIELDS: Field[][] = [
	[
		[":method", "GET"],
		[":scheme", "http"],
		[":path", "/"],
		[":authority", "www.example.com"],
	],
	[
		[":method", "GET"],
		[":scheme", "http"],
		[":path", "/"],
		[":authority", "www.example.com"],
		["cache-control", "no-cache"],
	],
	[
		[":method", "GET"],
		[":scheme", "https"],
		[":path", "/index.html"],
		[":authority", "www.example.com"],
		["custom-key", "custom-value"],
	],
];
const REQUEST_TABLES: { table: Field[]; size: number }[] = [
	{ table: [[":authority", "www.example.com"]], size: 57 },
	{
		table: [
			["cache-control", "no-cache"],
			[":authority", "www.example.com"],
		],
		size: 110,
	},
	{
		table: [
			["custom-key", "custom-value"],
			["cache-control", "no-cache"],
			[":authority", "www.example.com"],
		],
		size: 164,
	},
];

const DATE_1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE_2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RESPONSE_FIELDS: Field[][] = [
	[
		[":status", "302"],
		["cache-control", "private"],
		["date", DATE_1],
		["location", LOCATION],
	],
	[
		[":status", "307"],
		["cache-control", "private"],
		["date", DATE_1],
		["location", LOCATION],
	],
	[
		[":status", "200"],
		["cache-control", "private"],
		["date", DATE_2],
		["location", LOCATION],
		["content-encoding", "gzip"],
		["set-cookie", COOKIE],
	],
];
const RESPONSE_TABLES: { table: Field[]; size: number }[] = [
	{
		table: [
			["location", LOCATION],
			["date", DATE_1],
			["cache-control", "private"],
			[":status", "302"],
		],
		size: 222,
	},
	{
		table: [
			[":status", "307"],
			["location", LOCATION],
			["date", DATE_1],
			["cache-control", "private"],
		],
		size: 222,
	},
	{
		table: [
			["set-cookie", COOKIE],
			["content-encoding", "gzip"],
			["date", DATE_2],
		],
		size: 215,
	},
];

function steps(
	blocks: string[],
	fields: Field[][],
	tables: { table: Field[]; size: number }[],
): Step[] {
	return blocks.map((block, i) => ({
		block,
		fields: fields[i] as Field[],
		table: (tables[i] as { table: Field[] }).table,
		size: (tables[i] as { size: number }).size,
	}));
}

const EXAMPLES: { name: string; tableSize: number; steps: Step[] }[] = [
	{
		name: "C.3 requests without Huffman coding",
		tableSize: 4096,
		steps: steps(
			[
				"8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
				"8286 84be 5808 6e6f 2d63 6163 6865",
				"8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
			],
			REQUEST_FIELDS,
			REQUEST_TABLES,
		),
	},
	{
		name: "C.4 requests with Huffman coding",
		tableSize: 4096,
		steps: steps(
			[
				"8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
				"8286 84be 5886 a8eb 1064 9cbf",
				"8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
			],
			REQUEST_FIELDS,
			REQUEST_TABLES,
		),
	},
	{
		name: "C.5 responses without Huffman coding (table size 256, evictions)",
		tableSize: 256,
		steps: steps(
			[
				`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
				 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
				 6c65 2e63 6f6d`,
				"4803 3330 37c1 c0bf",
				`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
				 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
				 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
				 3d31`,
			],
			RESPONSE_FIELDS,
			RESPONSE_TABLES,
		),
	},
	{
		name: "C.6 responses with Huffman coding (table size 256, evictions)",
		tableSize: 256,
		steps: steps(
			[
				`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
				 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
				"4883 640e ffc1 c0bf",
				`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
				 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
				 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
			],
			RESPONSE_FIELDS,
			RESPONSE_TABLES,
		),
	},
];

describe("RFC 7541 Appendix C.3 – C.6: consecutive blocks on one decoder", () => {
	for (const example of EXAMPLES) {
		it(example.name, () => {
			const decoder = new HpackDecoder(example.tableSize);
			example.steps.forEach((step, i) => {
				expect({
					block: i + 1,
					fields: decodeBlock(decoder, hex(step.block)),
				}).toEqual({
					block: i + 1,
					fields: step.fields,
				});
				expect({
					block: i + 1,
					table: decoder.tableEntries(),
					size: decoder.tableSize,
				}).toEqual({
					block: i + 1,
					table: step.table,
					size: step.size,
				});
			});
		});
	}
});

describe("Huffman code", () => {
	it("encodes the RFC 7541 Appendix C.4 / C.6 strings to the published bytes", () => {
		const vectors: [string, string][] = [
			["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
			["no-cache", "a8eb10649cbf"],
			["custom-key", "25a849e95ba97d7f"],
			["custom-value", "25a849e95bb8e8b4bf"],
			["302", "6402"],
			["private", "aec3771a4b"],
			[DATE_1, "d07abe941054d444a8200595040b8166e082a62d1bff"],
			[LOCATION, "9d29ad171863c78f0b97c8e9ae82ae43d3"],
			["gzip", "9bd9ab"],
			[
				COOKIE,
				"94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
			],
		];
		for (const [text, bytes] of vectors) {
			expect([text, toHex(huffmanEncode(text))]).toEqual([text, bytes]);
			expect(huffmanEncodedLength(text)).toBe(bytes.length / 2);
			const encoded = hex(bytes);
			expect(huffmanDecode(encoded, 0, encoded.length)).toBe(text);
		}
	});

	it("matches Appendix B codes for sample symbols (canonical code derived from lengths)", () => {
		// (symbol, code, bits) rows from Appendix B; a single symbol is followed by all-ones padding.
		const rows: [number, number, number][] = [
			[0x30, 0x0, 5], // '0' |00000
			[0x20, 0x14, 6], // ' ' |010100
			[0x3a, 0x5c, 7], // ':' |1011100
			[0x26, 0xf8, 8], // '&' |11111000
			[0x21, 0x3f8, 10], // '!' |11111110|00
			[0x5c, 0x7fff0, 19], // '\' |11111111|11111110|000
			[0x00, 0x1ff8, 13],
			[0x01, 0x7fffd8, 23],
			[0x0a, 0x3ffffffc, 30],
			[0xfe, 0x7fffff0, 27],
			[0xff, 0x3ffffee, 26],
		];
		for (const [symbol, code, bits] of rows) {
			const encoded = huffmanEncode(String.fromCharCode(symbol));
			const padded = Math.ceil(bits / 8) * 8;
			const expected =
				BigInt(code) * 2n ** BigInt(padded - bits) +
				(2n ** BigInt(padded - bits) - 1n);
			expect([symbol, toHex(encoded)]).toEqual([
				symbol,
				expected.toString(16).padStart(padded / 4, "0"),
			]);
		}
	});

	it("round-trips every byte value, alone and all together", () => {
		let all = "";
		for (let c = 0; c < 256; c++) {
			const s = String.fromCharCode(c);
			all += s;
			const encoded = huffmanEncode(s);
			expect(encoded.length).toBe(huffmanEncodedLength(s));
			expect(huffmanDecode(encoded, 0, encoded.length)).toBe(s);
		}
		const encoded = huffmanEncode(all);
		expect(encoded.length).toBe(huffmanEncodedLength(all));
		expect(huffmanDecode(encoded, 0, encoded.length)).toBe(all);
	});

	it("round-trips random strings, also decoding from an offset inside a larger buffer", () => {
		const rand = prng(7541);
		let alphabet = "";
		for (let c = 0; c < 256; c++) alphabet += String.fromCharCode(c);
		for (let i = 0; i < 500; i++) {
			const s = randomString(
				rand,
				i % 2 === 0 ? alphabet : "abcdefghijklmnopqrstuvwxyz0123456789-./",
				0,
				300,
			);
			const encoded = huffmanEncode(s);
			expect(encoded.length).toBe(huffmanEncodedLength(s));
			const framed = new Uint8Array(encoded.length + 6);
			framed.fill(0xaa);
			framed.set(encoded, 3);
			expect(huffmanDecode(framed, 3, 3 + encoded.length)).toBe(s);
		}
		expect(huffmanEncode("")).toEqual(new Uint8Array(0));
		expect(huffmanDecode(new Uint8Array(0), 0, 0)).toBe("");
	});

	it("rejects characters outside latin1 when encoding", () => {
		expect(() => huffmanEncode("€")).toThrow(RangeError);
		expect(() => huffmanEncodedLength("☃")).toThrow(RangeError);
	});

	it("rejects EOS inside the string", () => {
		// 32 one-bits: EOS (30 ones) followed by 2 bits of valid padding.
		expect(hpackError(() => huffmanDecode(hex("ffffffff"), 0, 4)).message).toBe(
			"Huffman string contains EOS",
		);
		// 'a' (00011) then EOS then 5 ones of padding: 00011111 11111111 11111111 11111111 11111111.
		expect(
			hpackError(() => huffmanDecode(hex("1fffffffff"), 0, 5)).message,
		).toBe("Huffman string contains EOS");
	});

	it("rejects padding longer than 7 bits", () => {
		// 'a' (00011) + 11 one-bits.
		expect(huffmanDecode(hex("1f"), 0, 1)).toBe("a");
		expect(hpackError(() => huffmanDecode(hex("1fff"), 0, 2)).message).toBe(
			"invalid Huffman padding",
		);
		// A whole octet of padding and nothing else.
		expect(hpackError(() => huffmanDecode(hex("ff"), 0, 1)).message).toBe(
			"invalid Huffman padding",
		);
	});

	it("rejects padding that is not all ones", () => {
		// 'a' (00011) + 000, + 110, + 011.
		for (const bytes of ["18", "1e", "1b"]) {
			expect(hpackError(() => huffmanDecode(hex(bytes), 0, 1)).message).toBe(
				"invalid Huffman padding",
			);
		}
		// A code cut short: 7 bits of "1111111" are a valid padding, but "11111110" (first 8 bits of '!') is not.
		expect(hpackError(() => huffmanDecode(hex("fe"), 0, 1)).message).toBe(
			"invalid Huffman padding",
		);
	});
});

describe("HpackDecoder", () => {
	it("rejects index 0", () => {
		expect(decodeError(hex("80"))).toBe("indexed header field with index 0");
	});

	it("rejects an index beyond the static + dynamic table", () => {
		expect(decodeError(hex("be"))).toBe("index 62 is beyond the header table");
		const decoder = new HpackDecoder();
		decodeBlock(decoder, hex("4001 6101 62")); // a: b, indexed
		expect(decodeBlock(decoder, hex("be"))).toEqual([["a", "b"]]);
		expect(decodeError(hex("bf"), decoder)).toBe(
			"index 63 is beyond the header table",
		);
		// The same for the name index of a literal (0000xxxx with 15 + 47 = 62).
		expect(decodeError(hex("0f2f 0178"))).toBe(
			"index 62 is beyond the header table",
		);
	});

	it("rejects a truncated integer", () => {
		expect(decodeError(hex("ff"))).toBe("truncated integer");
		expect(decodeError(hex("ff80"))).toBe("truncated integer");
		// A string length whose continuation octets are missing.
		expect(decodeError(hex("047f"))).toBe("truncated integer");
	});

	it("rejects truncated strings and a literal without its value", () => {
		expect(decodeError(hex("0405 61"))).toBe("truncated string literal");
		expect(decodeError(hex("0085 6162"))).toBe("truncated string literal");
		expect(decodeError(hex("04"))).toBe("truncated header block");
		expect(decodeError(hex("4001 61"))).toBe("truncated header block");
	});

	it("rejects integers that overflow", () => {
		// Five continuation octets.
		expect(decodeError(hex("ff ff ff ff ff 0f"))).toBe("integer overflow");
		expect(decodeError(hex("ff 80 80 80 80 01"))).toBe("integer overflow");
		// Four continuation octets but a value above 2^28.
		expect(decodeError(hex("ff ff ff ff 7f"))).toBe("integer overflow");
		// A huge string length.
		expect(decodeError(hex("047f ffff ff7f"))).toBe("integer overflow");
	});

	it("rejects a dynamic table size update above the advertised maximum", () => {
		// 31 + 0x62 + (0x1f << 7) = 4097.
		expect(decodeError(hex("3fe21f"))).toBe(
			"dynamic table size update to 4097 exceeds the limit 4096",
		);
		const decoder = new HpackDecoder();
		decodeBlock(decoder, hex("3fe11f")); // 4096: allowed
		expect(decoder.tableMaxSize).toBe(4096);
		expect(decodeError(hex("3f02"), new HpackDecoder(32))).toBe(
			"dynamic table size update to 33 exceeds the limit 32",
		);
	});

	it("rejects a dynamic table size update after a header field", () => {
		expect(decodeError(hex("8220"))).toBe(
			"dynamic table size update after a header field",
		);
		// At the start, even twice, it is fine, and it evicts.
		const decoder = new HpackDecoder();
		decodeBlock(decoder, hex("4001 6101 62 4001 6301 64"));
		expect(decoder.tableSize).toBe(68);
		expect(decodeBlock(decoder, hex("3f02 20 82"))).toEqual([
			[":method", "GET"],
		]);
		expect(decoder.tableMaxSize).toBe(0);
		expect(decoder.tableEntries()).toEqual([]);
		expect(decoder.tableSize).toBe(0);
	});

	it("evicts the oldest entry on a size update to a smaller size", () => {
		const decoder = new HpackDecoder();
		decodeBlock(decoder, hex("4001 6101 62 4001 6301 64")); // a: b, then c: d (34 octets each)
		decodeBlock(decoder, hex("3f03")); // 34
		expect(decoder.tableEntries()).toEqual([["c", "d"]]);
		expect(decoder.tableSize).toBe(34);
		// Entries now only fit one at a time.
		decodeBlock(decoder, hex("4001 6501 66"));
		expect(decoder.tableEntries()).toEqual([["e", "f"]]);
	});

	it("empties the table when an entry is larger than the table, without error", () => {
		const decoder = new HpackDecoder(40);
		decodeBlock(decoder, hex("4001 6101 62"));
		expect(decoder.tableSize).toBe(34);
		expect(decodeBlock(decoder, hex("4001 6109 313233343536373839"))).toEqual([
			["a", "123456789"],
		]);
		expect(decoder.tableEntries()).toEqual([]);
		expect(decoder.tableSize).toBe(0);
		// A name that refers to the entry being evicted is still the right name.
		decodeBlock(decoder, hex("4001 6101 62"));
		expect(decodeBlock(decoder, hex("7e01 78"))).toEqual([["a", "x"]]);
		expect(decoder.tableEntries()).toEqual([["a", "x"]]);
	});

	it("wraps around its ring buffer over many insertions", () => {
		const decoder = new HpackDecoder(200); // 6 slots; 5 entries of 37 octets fit
		const inserted: Field[] = [];
		for (let i = 0; i < 40; i++) {
			const name = `n${i % 10}`;
			const value = `v${String(i).padStart(2, "0")}`;
			inserted.unshift([name, value]);
			decodeBlock(decoder, encodeIndexedLiteral(name, value));
			expect(decoder.tableEntries()).toEqual(inserted.slice(0, 5));
			expect(decoder.tableSize).toBe(Math.min(i + 1, 5) * 37);
			// Index 62 is the newest, 66 the oldest.
			expect(
				decodeBlock(
					decoder,
					Uint8Array.of(0x80 | 62, 0x80 | (Math.min(i + 1, 5) + 61)),
				),
			).toEqual([inserted[0], inserted[Math.min(i, 4)]]);
		}
	});

	it("rejects a header list larger than the limit", () => {
		// ":path: /" counts 5 + 1 + 32 = 38 octets; twice is 76.
		const decoder = new HpackDecoder(4096, 75);
		const seen: Field[] = [];
		const error = hpackError(() =>
			decoder.decode(hex("84 84"), (n, v) => seen.push([n, v])),
		);
		expect(error.message).toBe("header list larger than 75 octets");
		expect(seen).toEqual([[":path", "/"]]); // the field that crosses the limit is not delivered
		expect(decodeBlock(new HpackDecoder(4096, 76), hex("84 84"))).toHaveLength(
			2,
		);
	});

	it("rejects a Huffman error inside a block", () => {
		expect(decodeError(hex("0481 ff"))).toBe("invalid Huffman padding");
		expect(decodeError(hex("0484 ffff ffff"))).toBe(
			"Huffman string contains EOS",
		);
	});

	it("decodes latin1 octets 0x80-0xff and long plain strings unchanged", () => {
		const value = Array.from({ length: 300 }, (_, i) =>
			String.fromCharCode(i % 256),
		).join("");
		// Length 300 = 127 + 173: continuation octets 0xad (173 & 0x7f | 0x80), 0x01.
		const block = Uint8Array.from([
			0x00,
			0x01,
			0x78,
			0x7f,
			0xad,
			0x01,
			...Buffer.from(value, "latin1"),
		]);
		expect(decodeBlock(new HpackDecoder(), block)).toEqual([["x", value]]);
	});
});

/** A literal with incremental indexing and literal name, no Huffman (for ASCII names/values under 127 octets). */
function encodeIndexedLiteral(name: string, value: string): Uint8Array {
	return Uint8Array.from([
		0x40,
		name.length,
		...Buffer.from(name, "latin1"),
		value.length,
		...Buffer.from(value, "latin1"),
	]);
}

describe("encoder", () => {
	it("encodes a static-name literal without indexing, Huffman value (RFC C.4.2 value bytes)", () => {
		// cache-control is static index 24 = 15 + 9 with a 4-bit prefix.
		expect(toHex(encodeField("cache-control", "no-cache"))).toBe(
			"0f09" + "86a8eb10649cbf",
		);
	});

	it("encodes a literal name and Huffman value when shorter (RFC C.4.3 bytes)", () => {
		expect(toHex(encodeField("custom-key", "custom-value"))).toBe(
			"00" + "8825a849e95ba97d7f" + "8925a849e95bb8e8b4bf",
		);
	});

	it("keeps a value raw when Huffman is not shorter", () => {
		// "<>" takes 15 + 12 bits = 4 octets Huffman-coded; "x" takes 7 bits = 1 octet, a tie.
		expect(toHex(encodeField("x", "<>"))).toBe("00" + "0178" + "023c3e");
		// "te" is 10 bits Huffman-coded = 2 octets, a tie again; an empty value is one zero octet.
		expect(toHex(encodeField("te", ""))).toBe("00" + "027465" + "00");
	});

	it("writes multi-octet integers for a static name index and long values", () => {
		// www-authenticate = 61 = 15 + 46.
		expect(toHex(encodeField("www-authenticate", "<"))).toBe("0f2e" + "013c");
		const long = "<".repeat(200); // Huffman is longer, so raw: length 200 = 7-bit prefix 127 + 73
		const encoded = encodeField("x-long", long);
		// 0x00, then "x-long" Huffman-coded (36 bits: 0x85 + 5 octets), then 7f 49 and the value.
		expect(encoded.length).toBe(1 + 6 + 2 + 200);
		expect(toHex(encoded.subarray(7, 10))).toBe("7f493c");
		expect(decodeBlock(new HpackDecoder(), encoded)).toEqual([
			["x-long", long],
		]);
	});

	it("uses the 1-octet indexed form for full static matches in a block", () => {
		expect(
			toHex(
				encodeHeaderBlock([
					[":method", "POST"],
					[":scheme", "http"],
					[":scheme", "https"],
					[":status", "200"],
					[":path", "/"],
				]),
			),
		).toBe("8386878884");
		// A static name with another value is a literal without indexing (":path" = 4).
		expect(toHex(encodeHeaderBlock([[":path", "/a"]]))).toBe("04" + "022f61");
	});

	it("produces blocks that decode to the same fields and leave the peer's table empty", () => {
		const rand = prng(42);
		const decoder = new HpackDecoder();
		for (let i = 0; i < 200; i++) {
			const fields: Field[] = [
				[":method", "POST"],
				[":scheme", i % 2 ? "http" : "https"],
				[":path", `/flagd.evaluation.v1.Service/Resolve${i}`],
				[":authority", "localhost:8013"],
				["content-type", "application/grpc"],
				["te", "trailers"],
				[
					`x-${randomString(rand, "abcdefghijklmnopqrstuvwxyz0123456789-_.", 1, 30)}`,
					randomString(
						rand,
						" !\"#$%&'()*+,-./0123456789:;<=>?@ABCZ[\\]^_`az{|}~\t\x7f\x80\xe9\xff",
						0,
						200,
					),
				],
			];
			const block = encodeHeaderBlock(fields);
			const concatenated = Buffer.concat(
				fields.map(([n, v]) =>
					STATIC_FIELD_INDEX.get(n)?.get(v) !== undefined
						? encodeHeaderBlock([[n, v]])
						: encodeField(n, v),
				),
			);
			expect(toHex(block)).toBe(concatenated.toString("hex"));
			expect(decodeBlock(decoder, block)).toEqual(fields);
			expect(decoder.tableSize).toBe(0);
		}
	});

	it("starts a block with a dynamic table size update when asked", () => {
		expect(toHex(encodeHeaderBlock([[":method", "POST"]], 0))).toBe("2083");
		expect(toHex(encodeHeaderBlock([], 4096))).toBe("3fe11f");
		const decoder = new HpackDecoder(4096);
		expect(
			decodeBlock(decoder, encodeHeaderBlock([[":method", "POST"]], 0)),
		).toEqual([[":method", "POST"]]);
		expect(decoder.tableMaxSize).toBe(0);
		expect(() => encodeHeaderBlock([], -1)).toThrow(RangeError);
	});

	it("rejects uppercase and invalid names", () => {
		for (const name of [
			"Content-Type",
			"x-A",
			"",
			"a b",
			"a:b",
			"x\u00e9",
			"a\r\n",
		]) {
			expect(() => encodeField(name, "v")).toThrow(TypeError);
			expect(() => encodeHeaderBlock([[name, "v"]])).toThrow(TypeError);
		}
	});

	it("rejects values with CR, LF or NUL (header injection) and non-latin1 values", () => {
		for (const value of ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b", "€"]) {
			expect(() => encodeField("x-v", value)).toThrow(TypeError);
			expect(() => encodeHeaderBlock([[":path", value]])).toThrow(TypeError);
		}
	});
});

// ---------------------------------------------------------------------------------------------------------------
// Against a real peer: nghttp2 inside node:http2, spoken to over a raw socket with our own blocks and a tiny frame
// reader, so both directions of HPACK are checked against an independent implementation.

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const TYPE_DATA = 0x0;
const TYPE_HEADERS = 0x1;
const TYPE_RST_STREAM = 0x3;
const TYPE_SETTINGS = 0x4;
const TYPE_GOAWAY = 0x7;
const TYPE_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;

function frame(
	type: number,
	flags: number,
	streamId: number,
	payload: Uint8Array,
): Buffer {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(streamId, 5);
	return Buffer.concat([header, payload]);
}

/**
 * Reads frames off a byte stream and joins HEADERS + CONTINUATION fragments into complete header blocks.
 */
class FrameReader {
	private pending: Buffer = Buffer.alloc(0);
	private block:
		| { streamId: number; endStream: boolean; fragments: Buffer[] }
		| undefined;
	continuations = 0;

	constructor(
		private readonly onSettings: (ack: boolean) => void,
		private readonly onBlock: (
			streamId: number,
			block: Buffer,
			endStream: boolean,
		) => void,
		private readonly onFatal: (message: string) => void,
	) {}

	push(chunk: Buffer): void {
		this.pending = Buffer.concat([this.pending, chunk]);
		while (this.pending.length >= 9) {
			const length = this.pending.readUIntBE(0, 3);
			if (this.pending.length < 9 + length) return;
			const type = this.pending[3] as number;
			const flags = this.pending[4] as number;
			const streamId = this.pending.readUInt32BE(5) & 0x7fffffff;
			const payload = this.pending.subarray(9, 9 + length);
			this.pending = this.pending.subarray(9 + length);
			this.frame(type, flags, streamId, payload);
		}
	}

	private frame(
		type: number,
		flags: number,
		streamId: number,
		payload: Buffer,
	): void {
		if (
			this.block !== undefined &&
			(type !== TYPE_CONTINUATION || streamId !== this.block.streamId)
		) {
			this.onFatal(`frame type ${type} interrupts a header block`);
			return;
		}
		switch (type) {
			case TYPE_SETTINGS:
				this.onSettings((flags & FLAG_ACK) !== 0);
				return;
			case TYPE_HEADERS: {
				let start = 0;
				let end = payload.length;
				if (flags & FLAG_PADDED) {
					start = 1;
					end -= payload[0] as number;
				}
				if (flags & FLAG_PRIORITY) start += 5;
				this.block = {
					streamId,
					endStream: (flags & FLAG_END_STREAM) !== 0,
					fragments: [],
				};
				this.fragment(payload.subarray(start, end), flags);
				return;
			}
			case TYPE_CONTINUATION:
				if (this.block === undefined) {
					this.onFatal("CONTINUATION without HEADERS");
					return;
				}
				this.continuations++;
				this.fragment(payload, flags);
				return;
			case TYPE_RST_STREAM:
				this.onFatal(
					`RST_STREAM on stream ${streamId}, code ${payload.readUInt32BE(0)}`,
				);
				return;
			case TYPE_GOAWAY:
				this.onFatal(
					`GOAWAY, code ${payload.readUInt32BE(4)}: ${payload.subarray(8).toString()}`,
				);
				return;
			default:
				// DATA, WINDOW_UPDATE, PING, ...: nothing to check here.
				if (type === TYPE_DATA && payload.length > 0)
					this.onFatal("unexpected DATA payload");
		}
	}

	private fragment(bytes: Buffer, flags: number): void {
		const block = this.block as {
			streamId: number;
			endStream: boolean;
			fragments: Buffer[];
		};
		block.fragments.push(Buffer.from(bytes));
		if (flags & FLAG_END_HEADERS) {
			this.block = undefined;
			this.onBlock(
				block.streamId,
				Buffer.concat(block.fragments),
				block.endStream,
			);
		}
	}
}

interface PlannedExchange {
	readonly request: Field[];
	readonly echo: string;
	/** Response header fields apart from the echoed one, which the handler adds. */
	readonly response: Field[];
	readonly sensitive: string[];
	readonly trailers: Field[];
}

const HUFFMAN_FRIENDLY = "abcdefghijklmnopqrstuvwxyz0123456789-./=";
// Mostly symbols with 10+ bit codes, so the Huffman form is longer and the raw form is chosen.
const HUFFMAN_HOSTILE = "<>{}^`~|\\[]@$#!?\"'()*+;XZQJK";

/** Response fields for one request: a mix that makes nghttp2 index, reuse, evict and not index. */
function planExchange(
	rand: () => number,
	i: number,
	pool: Field[],
	authority: string,
): PlannedExchange {
	const echo =
		randomString(
			rand,
			`${HUFFMAN_FRIENDLY}${HUFFMAN_HOSTILE} `,
			1,
			40,
		).trim() || "e";
	const request: Field[] = [
		[":method", "POST"],
		[":scheme", "http"],
		[":path", `/flagd.evaluation.v1.Service/ResolveBoolean${i}`],
		[":authority", authority],
		["content-type", "application/grpc"],
		["te", "trailers"],
		["user-agent", "hpack-test/1.0"],
		["x-echo", echo],
		[
			`x-req-${randomString(rand, "abcdefghijklmnopqrstuvwxyz", 1, 12)}`,
			randomString(rand, HUFFMAN_FRIENDLY + HUFFMAN_HOSTILE, 0, 100),
		],
	];
	const response: Field[] = [[":status", i % 5 === 4 ? "404" : "200"]];
	const names = new Set<string>([":status", "x-echoed"]);
	const add = (name: string, value: string) => {
		if (names.has(name)) return;
		names.add(name);
		response.push([name, value]);
	};
	add("content-type", "application/grpc");
	add("date", `Mon, 21 Oct 2013 20:13:${String(i % 60).padStart(2, "0")} GMT`);
	// Repeated verbatim across responses: nghttp2 indexes them and then refers to them by index.
	for (const [name, value] of pool) if (rand() < 0.6) add(name, value);
	// Fresh ones push older entries out of the table.
	const fresh = 1 + Math.floor(rand() * 8);
	for (let k = 0; k < fresh; k++) {
		const name =
			`x-${randomString(rand, "abcdefghijklmnopqrstuvwxyz-", 1, 20)}`.replace(
				/-+$/,
				"",
			);
		const kind = rand();
		const value =
			kind < 0.4
				? randomString(rand, HUFFMAN_FRIENDLY, 0, 60)
				: kind < 0.8
					? randomString(rand, HUFFMAN_HOSTILE, 1, 60)
					: randomString(rand, HUFFMAN_FRIENDLY + HUFFMAN_HOSTILE, 200, 3000);
		add(name, value);
	}
	// A value longer than one frame (16384 octets) forces CONTINUATION frames.
	if (i % 4 === 1)
		add(
			"x-huge",
			randomString(rand, HUFFMAN_FRIENDLY + HUFFMAN_HOSTILE, 20000, 20000),
		);
	// Sent as "never indexed" by nghttp2.
	const sensitive = rand() < 0.5 ? ["authorization"] : [];
	if (sensitive.length > 0)
		add(
			"authorization",
			`Bearer ${randomString(rand, HUFFMAN_FRIENDLY, 10, 40)}`,
		);
	const trailers: Field[] = [
		["grpc-status", String(i % 3)],
		[
			"grpc-message",
			i % 3 === 0
				? ""
				: randomString(rand, `${HUFFMAN_FRIENDLY} %`, 1, 40).trim(),
		],
	];
	return { request, echo, response, sensitive, trailers };
}

interface Peer {
	readonly server: http2.Http2Server;
	readonly sessions: Set<http2.ServerHttp2Session>;
	readonly port: number;
	readonly received: Map<number, Record<string, string | string[] | undefined>>;
	plans: PlannedExchange[];
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPeer(headerTableSize: number): Promise<Peer> {
	const server = http2.createServer({ settings: { headerTableSize } });
	const peer: Peer = {
		server,
		sessions: new Set(),
		port: 0,
		received: new Map(),
		plans: [],
	};
	server.on("session", (session: http2.ServerHttp2Session) => {
		peer.sessions.add(session);
		session.on("close", () => peer.sessions.delete(session));
	});
	server.on("stream", (stream, headers) => {
		const id = stream.id as number;
		peer.received.set(id, headers);
		const plan = peer.plans[(id - 1) / 2] as PlannedExchange;
		const out: http2.OutgoingHttpHeaders = {};
		for (const [name, value] of plan.response) out[name] = value;
		// The value the server decoded from our block, sent back: checked against what we encoded.
		out["x-echoed"] = headers["x-echo"];
		stream.respond(
			Object.assign(out, { [http2.sensitiveHeaders]: plan.sensitive }),
			{
				waitForTrailers: true,
			},
		);
		stream.on("wantTrailers", () => {
			stream.sendTrailers(Object.fromEntries(plan.trailers));
		});
		stream.end();
	});
	server.listen(0, "127.0.0.1");
	await once(server, "listening");
	cleanups.push(async () => {
		for (const session of peer.sessions) session.destroy();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});
	return Object.assign(peer, { port: (server.address() as AddressInfo).port });
}

/**
 * Runs `count` request/response exchanges on one connection: our blocks out, nghttp2's blocks back, every response
 * block decoded by one HpackDecoder. Returns the decoded blocks per stream, and the decoder.
 */
async function exchange(
	peer: Peer,
	count: number,
	seed: number,
	clientHeaderTableSize: number | undefined,
	signalTableSize = true,
): Promise<{
	decoded: Map<number, Field[][]>;
	decoder: HpackDecoder;
	sizeUpdates: number;
	continuations: number;
}> {
	const rand = prng(seed);
	const authority = `127.0.0.1:${peer.port}`;
	const pool: Field[] = Array.from({ length: 12 }, (_, k) => [
		`x-pool-${k}`,
		randomString(rand, k % 2 ? HUFFMAN_FRIENDLY : HUFFMAN_HOSTILE, 1, 50),
	]);
	peer.plans = Array.from({ length: count }, (_, i) =>
		planExchange(rand, i, pool, authority),
	);

	const decoder = new HpackDecoder(clientHeaderTableSize ?? 4096);
	const decoded = new Map<number, Field[][]>();
	let sizeUpdates = 0;
	let blocks = 0;
	const socket = net.connect(peer.port, "127.0.0.1");
	cleanups.push(() => {
		socket.destroy();
	});
	await once(socket, "connect");
	let reader: FrameReader | undefined;
	const done = new Promise<void>((resolve, reject) => {
		let requestsSent = false;
		reader = new FrameReader(
			(ack) => {
				if (ack) return;
				socket.write(frame(TYPE_SETTINGS, FLAG_ACK, 0, new Uint8Array(0)));
				if (requestsSent) return;
				requestsSent = true;
				for (let i = 0; i < count; i++) {
					// The first block after acknowledging the server's SETTINGS signals our (empty) table size, which
					// nghttp2 insists on when its table is smaller than the default 4096.
					const block = encodeHeaderBlock(
						(peer.plans[i] as PlannedExchange).request,
						i === 0 && signalTableSize ? 0 : undefined,
					);
					socket.write(
						frame(
							TYPE_HEADERS,
							FLAG_END_STREAM | FLAG_END_HEADERS,
							2 * i + 1,
							block,
						),
					);
				}
			},
			(streamId, block, endStream) => {
				// A dynamic table size update is 001xxxxx at the start of a block.
				if (((block[0] as number) & 0xe0) === 0x20) sizeUpdates++;
				try {
					const fields = decodeBlock(decoder, block);
					const list = decoded.get(streamId) ?? [];
					list.push(fields);
					decoded.set(streamId, list);
				} catch (err) {
					reject(err);
					return;
				}
				if (endStream && ++blocks === count) resolve();
			},
			(message) => reject(new Error(message)),
		);
		const frames = reader;
		socket.on("data", (chunk: Buffer) => frames.push(chunk));
		socket.on("error", reject);
		socket.on("close", () => reject(new Error("connection closed early")));
	});
	const settings = Buffer.alloc(clientHeaderTableSize === undefined ? 0 : 6);
	if (clientHeaderTableSize !== undefined) {
		settings.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
		settings.writeUInt32BE(clientHeaderTableSize, 2);
	}
	socket.write(Buffer.concat([PREFACE, frame(TYPE_SETTINGS, 0, 0, settings)]));
	await done;
	return {
		decoded,
		decoder,
		sizeUpdates,
		continuations: (reader as FrameReader).continuations,
	};
}

describe("against nghttp2 (node:http2) over a raw socket", () => {
	const variants: {
		name: string;
		server: number;
		client: number | undefined;
		seed: number;
	}[] = [
		{
			name: "default 4096-octet tables",
			server: 4096,
			client: undefined,
			seed: 1,
		},
		{
			name: "a 256-octet response table (many evictions)",
			server: 256,
			client: 256,
			seed: 2,
		},
		{
			name: "a 1024-octet response table, server table 0",
			server: 0,
			client: 1024,
			seed: 3,
		},
		{
			name: "no response table at all (size 0)",
			server: 65536,
			client: 0,
			seed: 4,
		},
	];
	for (const variant of variants) {
		it(`decodes every response block and nghttp2 decodes every request block: ${variant.name}`, async () => {
			const peer = await startPeer(variant.server);
			const count = 24;
			const { decoded, decoder, sizeUpdates, continuations } = await exchange(
				peer,
				count,
				variant.seed,
				variant.client,
			);
			// The 20000-octet values did not fit one frame.
			expect(continuations).toBeGreaterThan(0);
			for (let i = 0; i < count; i++) {
				const streamId = 2 * i + 1;
				const plan = peer.plans[i] as PlannedExchange;
				// Request side: what nghttp2 decoded from our encodeHeaderBlock output.
				const received = peer.received.get(streamId) ?? {};
				expect({
					streamId,
					request: Object.fromEntries(Object.entries(received)),
				}).toEqual({
					streamId,
					request: Object.fromEntries(plan.request),
				});
				// Response side: pseudo-header first, then the fields in the order the handler gave them.
				const expectedHeaders: Field[] = [
					...plan.response,
					["x-echoed", plan.echo],
				];
				expect({ streamId, blocks: decoded.get(streamId) }).toEqual({
					streamId,
					blocks: [expectedHeaders, plan.trailers],
				});
			}
			// nghttp2 announced a smaller table with a size update when we advertised one.
			if (variant.client !== undefined && variant.client < 4096)
				expect(sizeUpdates).toBeGreaterThan(0);
			expect(decoder.tableSize).toBeLessThanOrEqual(variant.client ?? 4096);
			if (variant.client !== 0)
				expect(decoder.tableEntries().length).toBeGreaterThan(0);
			else expect(decoder.tableEntries()).toEqual([]);
		});
	}

	it("nghttp2 rejects our blocks when its reduced table size is not signalled (why encodeHeaderBlock can signal it)", async () => {
		const peer = await startPeer(256);
		await expect(exchange(peer, 1, 5, undefined, false)).rejects.toThrow(
			"GOAWAY, code 9",
		);
	});
});
