/**
 * SyncFlags on the direct streaming path (sync-stream-hub.ts) over a real HTTP/2 listener: snapshots on connect and
 * after every change for many streams (identical bytes), selectors from the header and the request, streams that
 * leave, shutdown, the server-side deadline, a client that reads slowly (it gets the latest snapshot, not every
 * one), and malformed request bodies. `hub.size` counts only streams the direct path serves.
 */
import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { FlagSyncService } from "@flagd-ts/protocol";
import { afterEach, describe, expect, it } from "@jest/globals";
import { waitFor } from "../../../../../test/support/wait-for.js";
import { recordingLogger } from "../../logging/testdata/recording-logger.js";
import { FlagStore } from "../../store/flag-store.js";
import { SelectorCache } from "../../store/selector-cache.js";
import { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import { createConnectHandler } from "../../transport/connect-handler.js";
import {
	listenHttp2,
	type RunningListener,
} from "../../transport/http-listener.js";
import { syncServiceRoute } from "./sync-service-route.js";
import { SyncStreamHub } from "./sync-stream-hub.js";

const SOURCE_A = "file:a.json";
const SOURCE_B = "file:b.json";

function doc(variant: string, count = 1): string {
	const flags: Record<string, unknown> = {};
	for (let i = 0; i < count; i++)
		flags[`flag-${i}`] = {
			state: "ENABLED",
			variants: { x: "X", y: "Y" },
			defaultVariant: variant,
		};
	return JSON.stringify({ flags });
}

const listeners: RunningListener[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0)) cleanup();
	await Promise.all(listeners.splice(0).map((l) => l.close(0)));
});

async function start(deadlineMs = 0) {
	const store = new FlagStore({
		sources: [SOURCE_A, SOURCE_B],
		logger: recordingLogger(),
	});
	const apply = (source: string, content: string) => {
		const applied = store.apply({ source, format: "json", content });
		if (!applied.ok) throw applied.error;
	};
	apply(SOURCE_A, doc("x"));
	apply(
		SOURCE_B,
		JSON.stringify({
			flags: {
				b: { state: "ENABLED", variants: { on: true }, defaultVariant: "on" },
			},
		}),
	);
	const shutdown = new AbortController();
	const options = {
		store,
		selectors: new SelectorCache(),
		metrics: new DaemonMetrics(),
		staticContext: { region: "eu" },
		disableSyncMetadata: false,
		shutdownSignal: shutdown.signal,
		deadlineMs,
	};
	const hub = new SyncStreamHub(options);
	const listener = await listenHttp2(
		createConnectHandler({
			logger: recordingLogger(),
			services: [syncServiceRoute(options, hub)],
			grpc: true,
			grpcWeb: false,
			connect: false,
		}),
		{ port: 0, host: "127.0.0.1", maxHeaderBytes: 0, name: "sync" },
	);
	listeners.push(listener);
	const baseUrl = `http://127.0.0.1:${listener.port}`;
	return {
		store,
		hub,
		shutdown,
		apply,
		baseUrl,
		port: listener.port as number,
	};
}

function open(
	baseUrl: string,
	request: { selector?: string } = {},
	headers: Record<string, string> = {},
) {
	const controller = new AbortController();
	cleanups.push(() => controller.abort());
	const iterator = createClient(
		FlagSyncService,
		createGrpcTransport({ baseUrl }),
	)
		.syncFlags(request, { signal: controller.signal, headers })
		[Symbol.asyncIterator]();
	return {
		async next(): Promise<{
			flags: Record<string, { defaultVariant: string }>;
			syncContext: unknown;
		}> {
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(new Error("no snapshot in time")),
					5_000,
				);
			});
			try {
				const result = await Promise.race([iterator.next(), timeout]);
				if (result.done === true) throw new Error("stream ended");
				return {
					flags: (
						JSON.parse(result.value.flagConfiguration) as {
							flags: Record<string, { defaultVariant: string }>;
						}
					).flags,
					syncContext: result.value.syncContext,
				};
			} finally {
				clearTimeout(timer);
			}
		},
		async end(): Promise<void> {
			for (;;) if ((await iterator.next()).done === true) return;
		},
		close: () => controller.abort(),
	};
}

const until = (condition: () => boolean, what: string): Promise<void> =>
	waitFor(condition, 10_000, what);

describe("SyncFlags on the direct streaming path", () => {
	it("many streams: the snapshot on connect and after a change, identical for all; the hub empties", async () => {
		const f = await start();
		const streams = Array.from({ length: 50 }, () => open(f.baseUrl));
		for (const s of streams) {
			const first = await s.next();
			expect(first.flags["flag-0"]?.defaultVariant).toBe("x");
			expect(first.flags.b).toBeDefined();
			expect(first.syncContext).toEqual({ region: "eu" });
		}
		expect(f.hub.size).toBe(50);
		f.apply(SOURCE_A, doc("y"));
		const next = await Promise.all(streams.map((s) => s.next()));
		for (const snapshot of next)
			expect(JSON.stringify(snapshot)).toBe(JSON.stringify(next[0]));
		expect(next[0]?.flags["flag-0"]?.defaultVariant).toBe("y");
		for (const s of streams) s.close();
		await until(() => f.hub.size === 0, "the hub to empty");
	});

	it("selects by the flagd-selector header, else the request's selector", async () => {
		const f = await start();
		const byHeader = open(
			f.baseUrl,
			{ selector: SOURCE_A },
			{ "flagd-selector": `source=${SOURCE_B}` },
		);
		const byBody = open(f.baseUrl, { selector: SOURCE_A });
		expect(Object.keys((await byHeader.next()).flags)).toEqual(["b"]);
		expect(Object.keys((await byBody.next()).flags)).toEqual(["flag-0"]);
		// A change of source A reaches only the stream that selected it.
		f.apply(SOURCE_A, doc("y"));
		expect((await byBody.next()).flags["flag-0"]?.defaultVariant).toBe("y");
		f.apply(
			SOURCE_B,
			JSON.stringify({
				flags: {
					b2: {
						state: "ENABLED",
						variants: { on: true },
						defaultVariant: "on",
					},
				},
			}),
		);
		expect(Object.keys((await byHeader.next()).flags)).toEqual(["b2"]);
	});

	it("ends every stream OK on shutdown", async () => {
		const f = await start();
		const s = open(f.baseUrl);
		await s.next();
		f.shutdown.abort();
		await expect(s.end()).resolves.toBeUndefined();
		await until(() => f.hub.size === 0, "the hub to empty");
	});

	it("ends with DEADLINE_EXCEEDED after the server-side stream deadline", async () => {
		const f = await start(200);
		const s = open(f.baseUrl);
		await s.next();
		const error = await s.end().then(
			() => undefined,
			(e: unknown) => ConnectError.from(e),
		);
		expect(error?.code).toBe(Code.DeadlineExceeded);
		expect(error?.rawMessage).toBe("stream closed due to server-side timeout");
	});

	it("a slow reader gets the latest snapshot when it drains, not every one in between", async () => {
		const f = await start();
		// Large enough (over Node's 16 KiB write buffer) that the first snapshot fills it while no window is granted.
		f.apply(SOURCE_A, doc("x", 300));
		const session = http2.connect(`http://127.0.0.1:${f.port}`, {
			settings: { initialWindowSize: 0 },
		});
		cleanups.push(() => session.destroy());
		const req = session.request({
			":method": "POST",
			":path": "/flagd.sync.v1.FlagSyncService/SyncFlags",
			"content-type": "application/grpc",
			te: "trailers",
		});
		req.end(Buffer.from([0, 0, 0, 0, 0]));
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		await until(() => f.hub.size === 1, "the stream to open");
		for (const variant of ["y", "x", "y", "x", "y"])
			f.apply(SOURCE_A, doc(variant, 300));
		// Grant the window: the client now takes the first snapshot, then the latest.
		session.settings({ initialWindowSize: 1 << 24 });
		session.setLocalWindowSize(1 << 24);
		const messages = (): Buffer[] => {
			const all = Buffer.concat(chunks);
			const out: Buffer[] = [];
			for (let at = 0; at + 5 <= all.length; ) {
				const length = all.readUInt32BE(at + 1);
				if (at + 5 + length > all.length) break;
				out.push(all.subarray(at + 5, at + 5 + length));
				at += 5 + length;
			}
			return out;
		};
		await until(() => messages().length >= 2, "two snapshots");
		// Nothing else follows the latest.
		await new Promise((resolve) => setTimeout(resolve, 200));
		const received = messages();
		expect(received).toHaveLength(2);
		expect(received[0]?.includes('"defaultVariant":"x"')).toBe(true);
		expect(received[1]?.includes('"defaultVariant":"y"')).toBe(true);
		expect(received[1]?.includes('"defaultVariant":"x"')).toBe(false);
	});

	it("a malformed request body is INVALID_ARGUMENT and opens no stream", async () => {
		const f = await start();
		const session = http2.connect(`http://127.0.0.1:${f.port}`);
		cleanups.push(() => session.destroy());
		const req = session.request({
			":method": "POST",
			":path": "/flagd.sync.v1.FlagSyncService/SyncFlags",
			"content-type": "application/grpc",
			te: "trailers",
		});
		req.end(Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]));
		req.resume();
		const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) => {
			req.once("trailers", resolve);
			req.once("end", () => resolve({}));
		});
		expect(trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
		expect(f.hub.size).toBe(0);
	});
});
