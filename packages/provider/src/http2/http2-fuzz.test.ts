/**
 * Hostile-server property tests for the HTTP/2 client: whatever bytes a server sends (well-formed frames in any
 * order, nonsense frames, random bytes), every call ends exactly once (an answer with END_STREAM or one failure),
 * nothing is thrown out of the socket callbacks, and the client dials a fresh connection for the next call. The
 * HPACK decoder gets the same treatment: any block decodes or fails with HpackError, never another exception.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { ConnectError, createClient } from "@connectrpc/connect";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createGrpcUnaryTransport } from "../grpc-unary-transport.js";
import { HpackDecoder } from "./hpack-decoder.js";
import { encodeHeaderBlock } from "./hpack-encoder.js";
import { HpackError } from "./hpack-error.js";
import { Http2Client } from "./http2-client.js";
import type { Http2StreamHandler } from "./http2-client-stream.js";
import { FrameType, frame } from "./http2-frame.js";

/** What one connection of the test server sends after the client's first request frames arrive. */
let script: Buffer = Buffer.alloc(0);

let server: net.Server;
let port = 0;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
	server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
		socket.on("error", () => {});
		const bytes = script;
		let sent = false;
		socket.on("data", () => {
			// The preface, SETTINGS and the request arrive in the first chunk or two; answer once, then hang up so
			// that every call reaches an end whatever the bytes said.
			if (sent) return;
			sent = true;
			socket.end(bytes);
		});
	});
	server.listen(0, "127.0.0.1");
	await once(server, "listening");
	port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
	for (const socket of sockets) socket.destroy();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

const REQUEST = encodeHeaderBlock([
	[":method", "POST"],
	[":scheme", "http"],
	[":authority", "fuzz"],
	[":path", "/fuzz"],
]);

/** Runs one call against the scripted server and returns the callbacks it got, in order. */
async function callOnce(client: Http2Client): Promise<string[]> {
	const events: string[] = [];
	let settle!: () => void;
	const settled = new Promise<void>((resolve) => {
		settle = resolve;
	});
	const handler: Http2StreamHandler = {
		onHeaders(_fields, end) {
			events.push(end ? "headers-end" : "headers");
			if (end) settle();
		},
		onData(_chunk, end) {
			events.push(end ? "data-end" : "data");
			if (end) settle();
		},
		onFailure(error) {
			events.push(`failure:${error.kind}`);
			settle();
		},
	};
	client.request(REQUEST, Buffer.from("body"), handler);
	let timer: NodeJS.Timeout | undefined;
	const hung = new Promise<"hung">((resolve) => {
		timer = setTimeout(() => resolve("hung"), 5000);
	});
	const result = await Promise.race([settled, hung]);
	clearTimeout(timer);
	if (result === "hung") events.push("hung");
	// Late callbacks (after the end) would show up here.
	await new Promise((resolve) => setImmediate(resolve));
	return events;
}

/** A frame as bytes: a known type with plausible flags, stream ids and payloads, or anything at all. */
const frameArb = fc.oneof(
	fc
		.record({
			type: fc.integer({ min: 0, max: 10 }),
			flags: fc.oneof(
				fc.constantFrom(0, 0x1, 0x4, 0x5, 0x8, 0x20, 0x2d),
				fc.integer({ min: 0, max: 255 }),
			),
			streamId: fc.constantFrom(0, 1, 1, 1, 2, 3, 0x7fff_ffff),
			// Mostly short payloads: length checks on fixed-size frames (PING 8, RST_STREAM 4, …) are the edges.
			payload: fc.oneof(
				fc.uint8Array({ maxLength: 10 }),
				fc.uint8Array({ maxLength: 48 }),
			),
		})
		.map((f) => frame(f.type, f.flags, f.streamId, f.payload)),
	// A well-formed response header block, trailers or data on stream 1.
	fc.constantFrom(
		frame(
			FrameType.HEADERS,
			0x4,
			1,
			encodeHeaderBlock([
				[":status", "200"],
				["content-type", "application/grpc"],
			]),
		),
		frame(FrameType.HEADERS, 0x5, 1, encodeHeaderBlock([["grpc-status", "0"]])),
		frame(FrameType.DATA, 0x0, 1, Buffer.from([0, 0, 0, 0, 1, 8])),
		frame(FrameType.DATA, 0x1, 1, Buffer.alloc(3)),
		frame(FrameType.CONTINUATION, 0x4, 1, encodeHeaderBlock([["x", "y"]])),
	),
	fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
);

const scriptArb = fc
	.tuple(fc.boolean(), fc.array(frameArb, { maxLength: 8 }))
	.map(([settingsFirst, frames]) =>
		Buffer.concat([
			...(settingsFirst ? [frame(FrameType.SETTINGS, 0, 0)] : []),
			...frames,
		]),
	);

describe("Http2Client against a server sending arbitrary bytes", () => {
	it("ends every call exactly once, with nothing after the end, and recovers on a new connection", async () => {
		await fc.assert(
			fc.asyncProperty(scriptArb, async (bytes) => {
				script = bytes;
				const client = new Http2Client({
					dial: () => net.connect(port, "127.0.0.1"),
					secure: false,
				});
				try {
					const first = await callOnce(client);
					expect(first).not.toContain("hung");
					const ends = first.filter(
						(e) => e.endsWith("-end") || e.startsWith("failure"),
					);
					expect(ends).toHaveLength(1);
					expect(first.at(-1)).toBe(ends[0]);
					// The server hung up after its bytes: the next call dials again and ends too.
					const second = await callOnce(client);
					expect(second).not.toContain("hung");
					expect(
						second.filter((e) => e.endsWith("-end") || e.startsWith("failure")),
					).toHaveLength(1);
				} finally {
					client.close();
				}
			}),
			{ numRuns: 400 },
		);
	}, 60_000);
});

/** A literal field without indexing and with a literal name, raw bytes (names fetch's Headers would reject too). */
function rawField(name: string, value: string): Buffer {
	const n = Buffer.from(name, "latin1");
	const v = Buffer.from(value, "latin1");
	return Buffer.concat([
		Buffer.from([0x00, n.length]),
		n,
		Buffer.from([v.length]),
		v,
	]);
}

const fieldArb = fc.tuple(
	fc.constantFrom(
		"grpc-status",
		"grpc-status",
		"grpc-message",
		"grpc-status-details-bin",
		"content-type",
		":status",
		"bad name",
		"x\u00ff",
		"",
	),
	fc.oneof(
		fc.constantFrom(
			"0",
			"5",
			"13",
			"99",
			"abc",
			"",
			"AAAA",
			"!!!",
			"CAUSAmFi",
			"application/grpc",
		),
		fc.string({ maxLength: 20, unit: "binary-ascii" }),
	),
);

/** A gRPC-shaped answer with arbitrary status fields, message bytes and trailers. */
const grpcAnswerArb = fc
	.record({
		status: fc.constantFrom("200", "200", "200", "503", "abc", ""),
		contentType: fc.constantFrom(
			"application/grpc",
			"application/grpc",
			"text/html",
			"",
		),
		extra: fc.array(fieldArb, { maxLength: 3 }),
		endAfterHeaders: fc.boolean(),
		body: fc.option(fc.uint8Array({ maxLength: 24 })),
		trailers: fc.array(fieldArb, { maxLength: 4 }),
	})
	.map((a) => {
		const head = Buffer.concat([
			rawField(":status", a.status),
			rawField("content-type", a.contentType),
			...a.extra.map(([n, v]) => rawField(n, v)),
		]);
		const parts = [
			frame(FrameType.SETTINGS, 0, 0),
			frame(FrameType.HEADERS, a.endAfterHeaders ? 0x5 : 0x4, 1, head),
		];
		if (!a.endAfterHeaders) {
			if (a.body !== null) parts.push(frame(FrameType.DATA, 0, 1, a.body));
			parts.push(
				frame(
					FrameType.HEADERS,
					0x5,
					1,
					Buffer.concat(a.trailers.map(([n, v]) => rawField(n, v))),
				),
			);
		}
		return Buffer.concat(parts);
	});

describe("the gRPC unary transport against a server sending arbitrary gRPC answers", () => {
	it("settles every call with a response or a ConnectError, never an exception from a socket callback", async () => {
		await fc.assert(
			fc.asyncProperty(grpcAnswerArb, async (bytes) => {
				script = bytes;
				const client = new Http2Client({
					dial: () => net.connect(port, "127.0.0.1"),
					secure: false,
				});
				const transport = createGrpcUnaryTransport({
					client,
					authority: "fuzz",
					scheme: "http",
					streamTransport: {
						unary: () => Promise.reject(new Error("unused")),
						stream: () => Promise.reject(new Error("unused")),
					},
				});
				try {
					const outcome = await createClient(EvaluationServiceV2, transport)
						.resolveString({ flagKey: "f" }, { timeoutMs: 5000 })
						.then(
							() => "ok",
							(err: unknown) => err,
						);
					if (outcome !== "ok") {
						expect(outcome).toBeInstanceOf(ConnectError);
						// Our own deadline firing would mean the call hung (a server may send grpc-status 4 itself).
						expect((outcome as ConnectError).rawMessage).not.toMatch(
							/timed out after 5000 ms/,
						);
					}
				} finally {
					client.close();
				}
			}),
			{ numRuns: 300 },
		);
	}, 60_000);
});

describe("HpackDecoder on arbitrary blocks", () => {
	it("decodes or throws HpackError, and nothing else", () => {
		fc.assert(
			fc.property(
				fc.array(fc.uint8Array({ maxLength: 64 }), {
					minLength: 1,
					maxLength: 4,
				}),
				(blocks) => {
					const decoder = new HpackDecoder(4096, 65_536);
					for (const block of blocks) {
						try {
							decoder.decode(block, () => {});
						} catch (err: unknown) {
							expect(err).toBeInstanceOf(HpackError);
							return;
						}
					}
				},
			),
			{ numRuns: 5000 },
		);
	});
});
