/**
 * Transport limits against hostile clients, on real sockets: a huge streamed body on the sync port, slow and silent
 * headers on every port, HTTP/2 connections ended by a protocol error, stream floods (per connection and overall),
 * malformed protobuf and deeply nested OFREP contexts. Timeouts are made short through the daemon's options so each
 * test awaits the daemon's own reaction (a closed socket, a status) instead of sleeping.
 */
import http2 from "node:http2";
import net from "node:net";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

const MiB = 1024 * 1024;

/** Resolves when `emitter` emits `event`, or rejects after `timeoutMs` naming `what`. */
function once<T = unknown>(
	emitter: NodeJS.EventEmitter,
	event: string,
	timeoutMs: number,
	what: string,
): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() =>
				reject(
					new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
				),
			timeoutMs,
		);
		// Unref'd: a wait that lost a race must not keep Jest alive.
		timer.unref();
		emitter.once(event, (value: T) => {
			clearTimeout(timer);
			resolve(value);
		});
	});
}

/** A raw TCP client; resolves once connected. */
async function connectRaw(port: number): Promise<net.Socket> {
	const socket = net.connect(port, "127.0.0.1");
	socket.on("error", () => {});
	socket.on("data", () => {});
	await once(socket, "connect", 5_000, "TCP connect");
	return socket;
}

/** Resolves with how long the server took to close `socket` (the client never closes it). */
async function closedByServer(
	socket: net.Socket,
	timeoutMs: number,
): Promise<number> {
	const start = Date.now();
	if (!socket.destroyed)
		await once(socket, "close", timeoutMs, "the daemon to close the socket");
	return Date.now() - start;
}

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
