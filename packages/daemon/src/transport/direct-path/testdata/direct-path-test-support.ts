/**
 * Set-up shared by the tests of the direct unary paths (grpc-unary-direct-path.test.ts,
 * connect-unary-direct-path.test.ts):
 * the daemon's real services over one store, served twice — direct path on and off — on 127.0.0.1, a raw HTTP/2
 * client, and the observable that tells which path answered (connect aborts the handler context's signal after
 * every call, the direct path does not). It lives in testdata/ so the package build leaves it out.
 */
import http2 from "node:http2";
import type { ConnectRouterOptions, HandlerContext } from "@connectrpc/connect";
import { FlagSyncService } from "@flagd-ts/protocol";
import { expect } from "@jest/globals";
import { evaluationRoutes } from "../../../api/evaluation/evaluation-handler.js";
import { createSyncService } from "../../../api/sync/sync-service.js";
import { SYNC_SERVICE_ROUTE } from "../../../api/sync/sync-service-route.js";
import {
	type LogEntry,
	recordingLogger,
} from "../../../logging/testdata/recording-logger.js";
import { ContextBuilder } from "../../../resolver/context-builder.js";
import { FlagResolver } from "../../../resolver/flag-resolver.js";
import { FlagStore } from "../../../store/flag-store.js";
import { SelectorCache } from "../../../store/selector-cache.js";
import { DaemonMetrics } from "../../../telemetry/daemon-metrics.js";
import {
	createConnectHandler,
	type ServiceRoute,
	serviceRoute,
} from "../../connect-handler.js";
import {
	listenMultiProtocol,
	type RunningListener,
} from "../../http-listener.js";
import type { DirectAnswerCache } from "../direct-answer-cache.js";

// ---------------------------------------------------------------------------------------------------------------
// Flags and services

export const SOURCE_A = "file:a.json";
export const SOURCE_B = "file:b.json";
/** More than connect's 1,024-byte compressMinBytes once encoded, so a compression-accepting client gets it compressed. */
export const BIG_TEXT = "x".repeat(2_000);
export const V1 = "/flagd.evaluation.v1.Service";
export const V2 = "/flagd.evaluation.v2.Service";

const FLAGS_A = {
	metadata: { team: "checkout", version: 3 },
	flags: {
		bool: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
			metadata: { owner: "payments", weight: 1.5 },
		},
		tier: {
			state: "ENABLED",
			variants: { gold: "GOLD", basic: "BASIC" },
			defaultVariant: "basic",
			targeting: {
				if: [
					{
						or: [
							{ "==": [{ var: "user.profile.tier" }, "gold"] },
							{ "==": [{ var: "tier" }, "gold"] },
						],
					},
					"gold",
					"basic",
				],
			},
		},
		disabled: {
			state: "DISABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
		count: {
			state: "ENABLED",
			variants: { n: 42 },
			defaultVariant: "n",
		},
		ratio: {
			state: "ENABLED",
			variants: { r: 0.25 },
			defaultVariant: "r",
		},
		big: {
			state: "ENABLED",
			variants: {
				v: { blob: BIG_TEXT, nested: { list: [1, "two", null, true] } },
			},
			defaultVariant: "v",
		},
		small: {
			state: "ENABLED",
			variants: { v: { a: 1 } },
			defaultVariant: "v",
		},
	},
};
const FLAGS_B = {
	flags: {
		onlyB: {
			state: "ENABLED",
			variants: { y: "yes" },
			defaultVariant: "y",
			metadata: { flagSetId: "beta" },
		},
	},
};

export interface Services {
	readonly store: FlagStore;
	readonly routes: readonly ServiceRoute[];
	/** The resolver behind the evaluation services (evaluationServices sets it). */
	readonly resolver?: FlagResolver;
	readonly metrics?: DaemonMetrics;
}

/** The daemon's real evaluation (and sync) services over a store holding FLAGS_A and FLAGS_B. */
export function evaluationServices(ready = true): Services {
	const metrics = new DaemonMetrics();
	const store = new FlagStore({
		sources: [SOURCE_A, SOURCE_B],
		logger: recordingLogger([]),
	});
	if (ready) {
		for (const [source, doc] of [
			[SOURCE_A, FLAGS_A],
			[SOURCE_B, FLAGS_B],
		] as const) {
			const applied = store.apply({
				source,
				format: "json",
				content: JSON.stringify(doc),
			});
			if (!applied.ok) throw applied.error;
		}
	}
	const selectors = new SelectorCache();
	const resolver = new FlagResolver({
		store,
		selectors,
		contexts: new ContextBuilder({
			staticContext: { region: "eu" },
			headerContext: { "x-tier": "tier" },
		}),
		metrics,
	});
	const streams = {
		shutdownSignal: new AbortController().signal,
		keepAliveMs: 60_000,
		deadlineMs: 0,
	};
	return {
		store,
		resolver,
		metrics,
		// The services as the daemon registers them, with the same synchronous declarations.
		routes: [
			...evaluationRoutes(resolver, streams),
			serviceRoute(
				FlagSyncService,
				createSyncService({
					store,
					selectors,
					metrics,
					staticContext: { region: "eu" },
					disableSyncMetadata: false,
					shutdownSignal: streams.shutdownSignal,
					deadlineMs: 0,
				}),
				SYNC_SERVICE_ROUTE,
			),
		],
	};
}

/**
 * Wraps every method of each implementation to record the handler context's signal. connect aborts that signal
 * when a call is done (its output iterator's return/catch); the direct path creates its context without one to abort.
 */
function recordingRoutes(
	routes: readonly ServiceRoute[],
	signals: AbortSignal[],
): ServiceRoute[] {
	return routes.map((route) => {
		const wrapped: Record<string, unknown> = {};
		for (const [name, fn] of Object.entries(route.impl)) {
			wrapped[name] = (req: unknown, ctx: HandlerContext) => {
				signals.push(ctx.signal);
				return (
					fn as unknown as (r: unknown, c: HandlerContext) => unknown
				).call(route.impl, req, ctx);
			};
		}
		// The same synchronous declarations: they, not the wrapper's shape, decide what the direct paths serve.
		return { ...route, impl: wrapped as ServiceRoute["impl"] };
	});
}

// ---------------------------------------------------------------------------------------------------------------
// Servers, and what a test leaves open

export interface Server {
	readonly port: number;
	readonly signals: AbortSignal[];
	readonly logs: LogEntry[];
}

export interface Pair {
	readonly fast: Server;
	readonly slow: Server;
	readonly store: FlagStore;
}

const listeners: RunningListener[] = [];
const sessions: http2.ClientHttp2Session[] = [];
const timers: NodeJS.Timeout[] = [];
const closers: (() => void)[] = [];

/** Registers something a test opened (an agent, a socket) to be destroyed by {@link closeAll}. */
export function onClose(close: () => void): void {
	closers.push(close);
}

/** For afterEach: destroys every client session and closes every server the test opened. */
export async function closeAll(): Promise<void> {
	for (const t of timers.splice(0)) clearTimeout(t);
	for (const s of sessions.splice(0)) s.destroy();
	for (const close of closers.splice(0)) close();
	await Promise.all(listeners.splice(0).map((l) => l.close(0)));
}

/** Serves the routes (HTTP/1.1 and h2c on one port), with or without the direct paths and an answer cache. */
export async function serve(
	routes: readonly ServiceRoute[],
	directUnaryPaths: boolean,
	options: ConnectRouterOptions,
	answerCache?: DirectAnswerCache,
): Promise<Server> {
	const signals: AbortSignal[] = [];
	const logs: LogEntry[] = [];
	const handler = createConnectHandler({
		...options,
		services: recordingRoutes(routes, signals),
		logger: recordingLogger(logs),
		directUnaryPaths,
		answerCache,
	});
	// HTTP/1.1 and h2c on one port, as on the evaluation port.
	const listener = await listenMultiProtocol(handler, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
	});
	listeners.push(listener);
	return { port: listener.port as number, signals, logs };
}

/** One handler with the direct path, one without, over the same service implementations. */
export async function servePair(
	options: ConnectRouterOptions = {},
	services: Services = evaluationServices(),
): Promise<Pair> {
	return {
		fast: await serve(services.routes, true, options),
		slow: await serve(services.routes, false, options),
		store: services.store,
	};
}

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP/2 client

export interface RawH2Request {
	readonly path: string;
	/** Every request header but `:path` (`:method` defaults to POST). */
	readonly headers: http2.OutgoingHttpHeaders;
	readonly body: Buffer;
	/** Write the body one byte per DATA frame. */
	readonly byteByByte?: boolean;
}

export interface RawH2Response {
	/** Response headers, `:status` included, `date` left out. */
	readonly headers: Record<string, unknown>;
	/** The response HEADERS frame ended the stream (a trailers-only response). */
	readonly headersEndStream: boolean;
	readonly trailers: Record<string, unknown> | undefined;
	readonly body: Buffer;
	readonly rstCode: number;
}

function withoutDate(
	headers: http2.IncomingHttpHeaders,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(headers)) if (k !== "date") out[k] = v;
	return out;
}

/** Sends one request on a new h2c session (destroyed by {@link closeAll}) and collects the whole answer. */
export function h2Exchange(
	port: number,
	request: RawH2Request,
): Promise<RawH2Response> {
	const session = http2.connect(`http://127.0.0.1:${port}`);
	sessions.push(session);
	session.on("error", () => {});
	return new Promise((resolve, reject) => {
		const stream = session.request(
			{ ":method": "POST", ":path": request.path, ...request.headers },
			{ endStream: false },
		);
		let headers: Record<string, unknown> = {};
		let headersEndStream = false;
		let trailers: Record<string, unknown> | undefined;
		const chunks: Buffer[] = [];
		stream.on("response", (h, flags) => {
			headers = withoutDate(h);
			headersEndStream =
				(flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
		});
		stream.on("trailers", (t) => {
			trailers = withoutDate(t);
		});
		stream.on("data", (chunk: Buffer) => chunks.push(chunk));
		// A reset shows as rstCode; the error event itself only repeats it.
		stream.on("error", () => {});
		stream.on("close", () => {
			if (
				stream.rstCode !== undefined &&
				stream.rstCode !== 0 &&
				!headers[":status"]
			)
				reject(new Error(`stream reset with code ${stream.rstCode}`));
			else
				resolve({
					headers,
					headersEndStream,
					trailers,
					body: Buffer.concat(chunks),
					rstCode: stream.rstCode ?? 0,
				});
		});
		sendBody(stream, request.body, request.byteByByte === true).catch(reject);
	});
}

/** A request body being written (node:http ClientRequest, node:http2 ClientHttp2Stream). */
interface BodySink {
	write(chunk: Buffer, callback: (error?: Error | null) => void): unknown;
	end(chunk?: Buffer): unknown;
}

/** Writes `body` and ends the request; with `byteByByte`, one byte per write, each flushed before the next. */
export async function sendBody(
	sink: BodySink,
	body: Buffer,
	byteByByte: boolean,
): Promise<void> {
	if (!byteByByte) {
		sink.end(body);
		return;
	}
	for (let i = 0; i < body.length; i++) {
		await new Promise<void>((done, fail) =>
			sink.write(body.subarray(i, i + 1), (e) => (e ? fail(e) : done())),
		);
	}
	sink.end();
}

// ---------------------------------------------------------------------------------------------------------------
// Which path answered

/** Resolves when `signal` aborts; rejects if it has not within `ms` (connect aborts right after the response). */
export function aborted(signal: AbortSignal, ms = 2_000): Promise<void> {
	if (signal.aborted) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error("handler context signal was never aborted")),
			ms,
		);
		timers.push(timer);
		signal.addEventListener("abort", () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

/**
 * Asserts which path served the last call on each server: on the fast server the context signal stays unaborted
 * even after the connect-served twin call has been aborted; on the slow server connect aborts it.
 */
export async function expectPaths(
	pair: Pair,
	fastServed: boolean,
): Promise<void> {
	const slowSignal = pair.slow.signals.at(-1);
	const fastSignal = pair.fast.signals.at(-1);
	expect(slowSignal).toBeDefined();
	expect(fastSignal).toBeDefined();
	await aborted(slowSignal as AbortSignal);
	if (fastServed) {
		// One more turn of the event loop for connect to have aborted it, had connect served it.
		await new Promise((resolve) => setImmediate(resolve));
		expect(fastSignal?.aborted).toBe(false);
	} else await aborted(fastSignal as AbortSignal);
}
