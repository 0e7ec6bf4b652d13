/**
 * A controllable flagd evaluation server (evaluation v1 and v2 on one port) for provider tests: real Connect,
 * gRPC and gRPC-Web over HTTP/1.1 and h2c on one TCP port (HTTP/2 preface sniffing), optionally TLS (ALPN h2 /
 * http/1.1) or a unix socket. Flags are plain values set by the test; behaviour knobs inject failures, delays and
 * stream faults; counters let tests assert how many calls reached the server.
 *
 * It is not a flagd: no JsonLogic, no sync sources. Use the real daemon (packages/daemon) for semantics.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { JsonObject } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type ConnectRouter,
	createConnectRouter,
	type HandlerContext,
} from "@connectrpc/connect";
import {
	universalRequestFromNodeRequest,
	universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";

/** One flag of the fake. `value: undefined` models flagd's "use the code default" (v2: unset value). */
export interface FakeFlag {
	readonly value: boolean | string | number | JsonObject | undefined;
	readonly variant?: string;
	/** @default "STATIC" */
	readonly reason?: string;
	readonly metadata?: JsonObject;
	/** Compute the answer from the request context instead (reason defaults to TARGETING_MATCH). */
	readonly targeting?: (context: JsonObject) => {
		value: FakeFlag["value"];
		variant?: string;
		reason?: string;
	};
}

type RequestedType = "boolean" | "string" | "number" | "object";

/** Behaviour knobs; change them at any time. */
export interface FakeFlagdBehaviour {
	/** Delay before answering each evaluation, in ms. */
	evaluationDelayMs: number;
	/** Fail every evaluation with this code. */
	evaluationErrorCode: Code | undefined;
	/** Reject every new event stream with this code (before provider_ready). */
	streamErrorCode: Code | undefined;
	/** Open event streams but never send provider_ready. */
	streamSilent: boolean;
}

/** What one request looked like, for assertions. */
export interface SeenRequest {
	readonly api: "v1" | "v2";
	readonly method: string;
	readonly flagKey?: string;
	readonly context?: JsonObject;
	readonly headers: Headers;
	/** Request URL as the server saw it; its host is the `:authority` / `Host` the client sent. */
	readonly url: string;
}

interface StreamHandle {
	push(message: { type: string; data?: JsonObject }): void;
	end(error?: ConnectError): void;
}

/** Options of {@link startFakeFlagd}. */
export interface FakeFlagdOptions {
	flags?: Record<string, FakeFlag>;
	/** Listen on this unix socket instead of 127.0.0.1. */
	socketPath?: string;
	/** Serve TLS with this key pair (PEM). */
	tls?: { key: string | Buffer; cert: string | Buffer };
	/** Fixed port (e.g. to restart on the same port); default 0 = any free port. */
	port?: number;
}

/** A running fake flagd. */
export interface FakeFlagd {
	readonly port: number;
	readonly flags: Map<string, FakeFlag>;
	readonly behaviour: FakeFlagdBehaviour;
	readonly requests: SeenRequest[];
	/** Responses that could not be written (normally: the client cancelled first). */
	readonly responseErrors: unknown[];
	/** Number of evaluation calls that reached the server. */
	evaluationCount(flagKey?: string): number;
	/** Number of event streams currently open. */
	readonly openStreamCount: number;
	/** Number of event streams opened since start. */
	readonly totalStreamCount: number;
	/** Sets a flag and sends configuration_change for it to every open stream. */
	setFlag(key: string, flag: FakeFlag): void;
	/** Sends a raw event to every open stream. */
	broadcast(message: { type: string; data?: JsonObject }): void;
	/** Ends every open stream cleanly (status OK) or with an error code. */
	endStreams(code?: Code): void;
	/** Calls `listener` for every new HTTP/2 session (e.g. to watch keepalive pings). */
	onSession(listener: (session: http2.ServerHttp2Session) => void): void;
	/** Closes the listener and every connection. */
	close(): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Starts a fake flagd on 127.0.0.1 (any free port), a unix socket, or with TLS. */
export async function startFakeFlagd(
	options: FakeFlagdOptions = {},
): Promise<FakeFlagd> {
	const flags = new Map<string, FakeFlag>(Object.entries(options.flags ?? {}));
	const behaviour: FakeFlagdBehaviour = {
		evaluationDelayMs: 0,
		evaluationErrorCode: undefined,
		streamErrorCode: undefined,
		streamSilent: false,
	};
	const requests: SeenRequest[] = [];
	const streams = new Set<StreamHandle>();
	let totalStreams = 0;

	async function evaluate(
		api: "v1" | "v2",
		type: RequestedType,
		req: { flagKey: string; context?: JsonObject },
		ctx: HandlerContext,
	): Promise<{
		value: unknown;
		variant: string | undefined;
		reason: string;
		metadata: JsonObject;
	}> {
		const context = req.context ?? {};
		requests.push({
			api,
			method: `Resolve${type}`,
			flagKey: req.flagKey,
			context,
			headers: ctx.requestHeader,
			url: ctx.url,
		});
		if (behaviour.evaluationDelayMs > 0) {
			await delay(behaviour.evaluationDelayMs, ctx.signal);
			// The client gave up (deadline); there is nobody to answer.
			if (ctx.signal.aborted)
				throw new ConnectError("client went away", Code.Canceled);
		}
		if (behaviour.evaluationErrorCode !== undefined) {
			throw new ConnectError("injected failure", behaviour.evaluationErrorCode);
		}
		const flag = flags.get(req.flagKey);
		if (flag === undefined)
			throw new ConnectError("Flag not found", Code.NotFound);
		const answer = flag.targeting
			? { reason: "TARGETING_MATCH", ...flag.targeting(context) }
			: {
					value: flag.value,
					variant: flag.variant,
					reason: flag.reason ?? "STATIC",
				};
		if (answer.value !== undefined && typeOf(answer.value) !== type) {
			throw new ConnectError("Type mismatch error", Code.InvalidArgument);
		}
		return {
			value: answer.value,
			variant: answer.variant,
			reason: answer.reason,
			metadata: flag.metadata ?? {},
		};
	}

	async function* eventStream(
		ctx: HandlerContext,
	): AsyncGenerator<{ type: string; data?: JsonObject }> {
		requests.push({
			api: ctx.service.typeName.includes(".v1.") ? "v1" : "v2",
			method: "EventStream",
			headers: ctx.requestHeader,
			url: ctx.url,
		});
		totalStreams += 1;
		if (behaviour.streamErrorCode !== undefined) {
			throw new ConnectError(
				"injected stream failure",
				behaviour.streamErrorCode,
			);
		}
		const queue: Array<
			{ type: string; data?: JsonObject } | { end: ConnectError | undefined }
		> = [];
		let wake: (() => void) | undefined;
		const handle: StreamHandle = {
			push: (m) => {
				queue.push(m);
				wake?.();
			},
			end: (error) => {
				queue.push({ end: error });
				wake?.();
			},
		};
		const onAbort = (): void => wake?.();
		ctx.signal.addEventListener("abort", onAbort);
		streams.add(handle);
		try {
			if (!behaviour.streamSilent) yield { type: "provider_ready", data: {} };
			while (!ctx.signal.aborted) {
				const next = queue.shift();
				if (next === undefined) {
					await new Promise<void>((r) => {
						wake = r;
					});
					continue;
				}
				if ("end" in next) {
					if (next.end) throw next.end;
					return;
				}
				yield next;
			}
		} finally {
			streams.delete(handle);
			ctx.signal.removeEventListener("abort", onAbort);
		}
	}

	const routes = (router: ConnectRouter): void => {
		router.service(EvaluationServiceV2, {
			resolveBoolean: async (req, ctx) =>
				v2(await evaluate("v2", "boolean", req, ctx)),
			resolveString: async (req, ctx) =>
				v2(await evaluate("v2", "string", req, ctx)),
			resolveFloat: async (req, ctx) =>
				v2(await evaluate("v2", "number", req, ctx)),
			resolveInt: async (req, ctx) =>
				v2(await evaluate("v2", "number", req, ctx)),
			resolveObject: async (req, ctx) =>
				v2(await evaluate("v2", "object", req, ctx)),
			eventStream: (_req, ctx) => eventStream(ctx),
		});
		router.service(EvaluationServiceV1, {
			resolveAll: () => {
				throw new ConnectError(
					"not implemented by the fake",
					Code.Unimplemented,
				);
			},
			resolveBoolean: async (req, ctx) =>
				v1(await evaluate("v1", "boolean", req, ctx), false),
			resolveString: async (req, ctx) =>
				v1(await evaluate("v1", "string", req, ctx), ""),
			resolveFloat: async (req, ctx) =>
				v1(await evaluate("v1", "number", req, ctx), 0),
			resolveInt: async (req, ctx) => {
				const r = v1(await evaluate("v1", "number", req, ctx), 0);
				return { ...r, value: BigInt(Math.trunc(r.value)) };
			},
			resolveObject: async (req, ctx) =>
				v1(await evaluate("v1", "object", req, ctx), {}),
			eventStream: (_req, ctx) => eventStream(ctx),
		});
	};
	// connectNodeAdapter prints every failed response write to the console, including the expected ones when a
	// client cancels (deadline, shutdown). This adapter does the same routing and records them instead.
	const router = createConnectRouter();
	routes(router);
	const byPath = new Map(router.handlers.map((h) => [h.requestPath, h]));
	const responseErrors: unknown[] = [];
	const handler = (
		req: http.IncomingMessage | http2.Http2ServerRequest,
		res: http.ServerResponse | http2.Http2ServerResponse,
	): void => {
		const route = byPath.get((req.url ?? "").split("?", 2)[0] ?? "");
		if (route === undefined) {
			res.writeHead(404);
			res.end();
			return;
		}
		route(universalRequestFromNodeRequest(req, res, undefined, undefined))
			.then((uRes) => universalResponseToNodeResponse(uRes, res))
			.catch((reason: unknown) => {
				responseErrors.push(reason);
			});
	};

	const sessions = new Set<http2.ServerHttp2Session>();
	const sessionListeners: Array<(session: http2.ServerHttp2Session) => void> =
		[];
	const sockets = new Set<net.Socket>();
	let server: net.Server;
	let h1: http.Server | undefined;
	if (options.tls) {
		const secure = http2.createSecureServer(
			{ ...options.tls, allowHTTP1: true },
			handler,
		);
		secure.on("session", (s) => {
			sessions.add(s);
			for (const l of sessionListeners) l(s);
			s.on("close", () => sessions.delete(s));
		});
		server = secure;
	} else {
		h1 = http.createServer(handler);
		const h2 = http2.createServer({}, handler);
		h2.on("session", (s) => {
			sessions.add(s);
			for (const l of sessionListeners) l(s);
			s.on("close", () => sessions.delete(s));
		});
		server = net.createServer((sock) => {
			sock.once("readable", () => {
				const chunk: Buffer | null = sock.read(PREFACE.length) ?? sock.read();
				if (chunk === null) {
					sock.destroy();
					return;
				}
				sock.unshift(chunk);
				const n = Math.min(chunk.length, PREFACE.length);
				const isH2 = chunk.subarray(0, n).equals(PREFACE.subarray(0, n));
				(isH2 ? h2 : (h1 as http.Server)).emit("connection", sock);
			});
		});
	}
	server.on("connection", (sock: net.Socket) => {
		sockets.add(sock);
		sock.on("close", () => sockets.delete(sock));
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		if (options.socketPath) server.listen(options.socketPath, resolve);
		else server.listen(options.port ?? 0, "127.0.0.1", resolve);
	});
	const address = server.address();
	const port =
		typeof address === "object" && address !== null ? address.port : 0;

	return {
		port,
		flags,
		behaviour,
		requests,
		responseErrors,
		evaluationCount: (flagKey) =>
			requests.filter(
				(r) =>
					r.method !== "EventStream" &&
					(flagKey === undefined || r.flagKey === flagKey),
			).length,
		get openStreamCount() {
			return streams.size;
		},
		get totalStreamCount() {
			return totalStreams;
		},
		setFlag(key, flag) {
			const existed = flags.has(key);
			flags.set(key, flag);
			for (const s of streams) {
				s.push({
					type: "configuration_change",
					data: { flags: { [key]: { type: existed ? "update" : "write" } } },
				});
			}
		},
		broadcast(message) {
			for (const s of streams) s.push(message);
		},
		endStreams(code) {
			for (const s of [...streams])
				s.end(
					code === undefined
						? undefined
						: new ConnectError("ended by test", code),
				);
		},
		onSession(listener) {
			sessionListeners.push(listener);
		},
		async close() {
			for (const s of [...streams]) s.end();
			for (const s of sessions) s.destroy();
			for (const s of sockets) s.destroy();
			h1?.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

function typeOf(value: NonNullable<FakeFlag["value"]>): RequestedType {
	if (typeof value === "boolean") return "boolean";
	if (typeof value === "string") return "string";
	if (typeof value === "number") return "number";
	return "object";
}

function v2<T>(r: {
	value: unknown;
	variant: string | undefined;
	reason: string;
	metadata: JsonObject;
}) {
	// T is inferred from the handler's expected response, so one helper serves the four typed messages.
	return {
		value: r.value as T | undefined,
		variant: r.variant,
		reason: r.reason,
		metadata: r.metadata,
	};
}

function v1<T>(
	r: {
		value: unknown;
		variant: string | undefined;
		reason: string;
		metadata: JsonObject;
	},
	zero: T,
) {
	return {
		value: (r.value === undefined ? zero : r.value) as T,
		variant: r.variant ?? "",
		reason: r.reason,
		metadata: r.metadata,
	};
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const t = setTimeout(resolve, ms);
		signal.addEventListener("abort", () => {
			clearTimeout(t);
			resolve();
		});
	});
}
