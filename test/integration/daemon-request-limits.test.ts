/**
 * Request limits against hostile clients, on real sockets: huge bodies (streamed behind a 2 GB gRPC length prefix,
 * or announced by Content-Length) on every port, malformed protobuf on every protocol, deeply nested OFREP contexts,
 * and the CORS answer to any origin.
 */
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	closedByServer,
	connectRaw,
	MiB,
	once,
} from "./connection-test-kit.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

describe("request body limit on the sync port", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:body", BASIC_FLAGS)],
			{
				maxRequestBodyBytes: 1_000_000,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it("refuses a 300 MB FetchAllFlags body behind a 2 GB length prefix after reading about the limit", async () => {
		global.gc?.();
		const rssBefore = process.memoryUsage().rss;
		const session = http2.connect(`http://127.0.0.1:${daemon.ports.sync}`);
		session.on("error", () => {});
		try {
			const stream = session.request({
				":method": "POST",
				":path": "/flagd.sync.v1.FlagSyncService/FetchAllFlags",
				"content-type": "application/grpc",
				te: "trailers",
			});
			stream.on("error", () => {});
			let status: string | undefined;
			const answered = new Promise<void>((resolve) => {
				const take = (headers: http2.IncomingHttpHeaders) => {
					const value = headers["grpc-status"];
					if (typeof value === "string") {
						status = value;
						resolve();
					}
				};
				stream.on("response", take);
				stream.on("trailers", take);
				stream.on("close", () => resolve());
			});
			let finished = false;
			void answered.then(() => {
				finished = true;
			});
			// gRPC envelope: uncompressed, length 2^31 - 1.
			stream.write(Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]));
			const chunk = Buffer.alloc(MiB, 0x41);
			let sent = 0;
			// Bounded: at most 300 chunks; each waits until the daemon reads (drain) or answers.
			for (let i = 0; i < 300 && !finished; i++) {
				sent += chunk.length;
				if (!stream.write(chunk)) {
					await Promise.race([
						once(stream, "drain", 30_000, "drain"),
						answered,
					]);
				}
			}
			await Promise.race([
				answered,
				once(stream, "close", 30_000, "the stream to end"),
			]);
			expect(status).toBe("8"); // RESOURCE_EXHAUSTED
			// The daemon stopped reading at its limit: only flow-control windows and one chunk got through.
			expect(sent).toBeLessThan(16 * MiB);
			stream.close();
		} finally {
			session.destroy();
		}
		global.gc?.();
		expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * MiB);
	});
});

describe("request body limit over HTTP/1.1", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:h1body", BASIC_FLAGS)],
			{ maxRequestBodyBytes: 1_000_000 },
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it.each([
		[
			"evaluation",
			"/flagd.evaluation.v1.Service/ResolveBoolean",
			429,
			() => daemon.ports.evaluation,
		],
		["OFREP", "/ofrep/v1/evaluate/flags", 413, () => daemon.ports.ofrep],
		["management", "/healthz", 405, () => daemon.ports.management],
	])(
		"answers a 300 MB body on the %s port early and closes the connection instead of reading it",
		async (_name, path, status, port) => {
			const socket = await connectRaw(port() as number);
			let response = "";
			socket.setEncoding("latin1");
			socket.on("data", (text: string) => {
				response += text;
			});
			let closed = false;
			socket.once("close", () => {
				closed = true;
			});
			try {
				socket.write(
					`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${300 * MiB}\r\n\r\n`,
				);
				const chunk = Buffer.alloc(MiB, 0x20);
				let sent = 0;
				for (let i = 0; i < 300 && !closed; i++) {
					sent += chunk.length;
					if (!socket.write(chunk) && !closed) {
						await Promise.race([
							once(socket, "drain", 30_000, "drain"),
							once(socket, "close", 30_000, "close"),
						]);
					}
				}
				await closedByServer(socket, 30_000);
				expect(response.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
				expect(sent).toBeLessThan(32 * MiB);
			} finally {
				socket.destroy();
			}
		},
	);

	it("answers an oversized gRPC health check with RESOURCE_EXHAUSTED without reading it", async () => {
		const session = http2.connect(
			`http://127.0.0.1:${daemon.ports.management}`,
		);
		session.on("error", () => {});
		try {
			const stream = session.request({
				":method": "POST",
				":path": "/grpc.health.v1.Health/Check",
				"content-type": "application/grpc",
				te: "trailers",
			});
			stream.on("error", () => {});
			stream.resume();
			// The gRPC status arrives in the trailers, or in the headers of a trailers-only answer.
			const response = Promise.race([
				once<http2.IncomingHttpHeaders>(
					stream,
					"trailers",
					30_000,
					"the health check answer",
				),
				once<http2.IncomingHttpHeaders>(
					stream,
					"response",
					30_000,
					"the health check answer",
				).then((h) =>
					h["grpc-status"] === undefined ? new Promise<never>(() => {}) : h,
				),
			]).then((h) => h["grpc-status"]);
			// One envelope announcing a 64 KiB HealthCheckRequest, then its bytes.
			const header = Buffer.alloc(5);
			header.writeUInt32BE(64 * 1024, 1);
			stream.write(Buffer.concat([header, Buffer.alloc(64 * 1024)]));
			expect(await response).toBe("8");
		} finally {
			session.destroy();
		}
	});
});

describe("malformed requests", () => {
	let daemon: RunningDaemon;
	let base: string;
	/** Field 1 (a string) claims 5 bytes but only 1 follows. */
	const MALFORMED = Buffer.from([0x0a, 0x05, 0x61]);
	const envelope = (flags: number, payload: Buffer) => {
		const header = Buffer.alloc(5);
		header[0] = flags;
		header.writeUInt32BE(payload.length, 1);
		return Buffer.concat([header, payload]);
	};

	beforeAll(async () => {
		daemon = await startTestDaemon([
			new MemorySource("mem:malformed", BASIC_FLAGS),
		]);
		await daemon.ready;
		base = `http://127.0.0.1:${daemon.ports.evaluation}`;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it("answers a malformed protobuf body on the Connect protocol with 400 invalid_argument", async () => {
		const res = await fetch(
			`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
			{
				method: "POST",
				headers: { "Content-Type": "application/proto" },
				body: MALFORMED,
			},
		);
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ code: "invalid_argument" });
	});

	it("answers a malformed protobuf message over gRPC with status 3 (evaluation and sync ports)", async () => {
		for (const [port, path] of [
			[daemon.ports.evaluation, "/flagd.evaluation.v1.Service/ResolveBoolean"],
			[daemon.ports.sync, "/flagd.sync.v1.FlagSyncService/FetchAllFlags"],
		] as const) {
			const session = http2.connect(`http://127.0.0.1:${port}`);
			session.on("error", () => {});
			try {
				const stream = session.request({
					":method": "POST",
					":path": path,
					"content-type": "application/grpc",
					te: "trailers",
				});
				stream.on("data", () => {});
				const status = new Promise<string | undefined>((resolve) => {
					const take = (h: http2.IncomingHttpHeaders) => {
						if (h["grpc-status"] !== undefined)
							resolve(String(h["grpc-status"]));
					};
					stream.on("response", take);
					stream.on("trailers", take);
					stream.on("close", () => resolve(undefined));
				});
				stream.end(envelope(0, MALFORMED));
				expect({ path, status: await status }).toEqual({ path, status: "3" });
			} finally {
				session.destroy();
			}
		}
	});

	it("answers a malformed protobuf message over gRPC-web with status 3", async () => {
		const res = await fetch(
			`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
			{
				method: "POST",
				headers: { "Content-Type": "application/grpc-web+proto" },
				body: envelope(0, MALFORMED),
			},
		);
		const body = Buffer.from(await res.arrayBuffer());
		expect(body.toString("latin1")).toMatch(/grpc-status: ?3\r\n/);
	});

	it("answers a malformed protobuf stream request on the Connect protocol with invalid_argument", async () => {
		const res = await fetch(`${base}/flagd.evaluation.v1.Service/EventStream`, {
			method: "POST",
			headers: { "Content-Type": "application/connect+proto" },
			body: envelope(0, MALFORMED),
		});
		const body = Buffer.from(await res.arrayBuffer());
		const last = body.subarray(
			body.lastIndexOf(0x02, body.length - 1) >= 0 ? 0 : 0,
		);
		expect(last.toString("utf8")).toContain('"code":"invalid_argument"');
	});

	it("answers CORS from any origin with * by default (flagd's rs/cors), exposing the ETag", async () => {
		const res = await fetch(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`,
			{
				method: "POST",
				headers: {
					Origin: "https://anywhere.example",
					"Content-Type": "application/json",
				},
				body: "{}",
			},
		);
		expect(res.status).toBe(200);
		expect(res.headers.get("access-control-allow-origin")).toBe("*");
		expect(res.headers.get("access-control-allow-credentials")).toBeNull();
		expect(res.headers.get("access-control-expose-headers")).toContain("ETag");
	});

	it("refuses an OFREP context nested 100,000 levels deep with 400 and accepts one 100 levels deep", async () => {
		const nested = (depth: number) =>
			`{"context":{"targetingKey":"u",${'"a":{'.repeat(depth - 1)}"x":1${"}".repeat(depth - 1)}}}`;
		const url = `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/bool-flag`;
		const deep = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: nested(100_000),
		});
		expect(deep.status).toBe(400);
		expect(await deep.json()).toEqual({
			key: "bool-flag",
			errorCode: "INVALID_CONTEXT",
			errorDetails: "context is nested more than 100 levels deep",
			metadata: null,
		});
		const ok = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: nested(100),
		});
		expect(ok.status).toBe(200);
	});
});
