/**
 * Time and size limits every listener applies to every connection, whatever the protocol, so a slow, silent or
 * greedy client costs a bounded amount of memory for a bounded time:
 * - HTTP/1.1 uses Node's own `headersTimeout`, `requestTimeout`, `keepAliveTimeout` and `maxHeaderSize`;
 * - HTTP/2 uses `settings.maxConcurrentStreams` and `maxHeaderListSize`, a deadline for the connection's first
 *   request, and an idle timeout that closes a connection with no open stream ({@link guardHttp2Session});
 * - a TLS handshake must finish within the header timeout;
 * - an HTTP/1.1 response sent before its request body was read closes the connection (unread-body-response.ts).
 *
 * {@link guardHttp2Session} also destroys the socket under a session that errors or closes. Node 20's http2 leaves
 * the descriptor of a connection it ended after a protocol error open (the session stops reading, so the peer's
 * FIN is never seen and no event fires); the idle timeout is what reclaims such a connection.
 */
import type http from "node:http";
import type http2 from "node:http2";
import type net from "node:net";
import { enforcePingPolicy, type PingPolicy } from "./ping-policy.js";
import { UnreadBodyResponse } from "./unread-body-response.js";

export interface ConnectionLimits {
	/**
	 * The first bytes of a connection (protocol detection, TLS handshake), a complete HTTP/1.1 request header, and
	 * an HTTP/2 connection's first request must arrive within this; 0 disables. @default 5_000
	 */
	readonly headerTimeoutMs: number;
	/** A connection with no request or stream in flight is closed after this long; 0 disables. @default 60_000 */
	readonly idleTimeoutMs: number;
	/** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS advertised and enforced per connection. @default 250 */
	readonly maxConcurrentStreams: number;
	/** Request header limit in bytes (HTTP/1.1 header size, HTTP/2 header list size); 0 = Node's default. */
	readonly maxHeaderBytes: number;
	/**
	 * A whole request, header and body, must arrive within this (Go's `ReadTimeout`): HTTP/1.1 through Node's
	 * `requestTimeout`, HTTP/2 per stream (request-body-deadline.ts); 0 disables. @default 60_000
	 */
	readonly requestTimeoutMs: number;
	/** Client keepalive PING policy (grpc-go's EnforcementPolicy); undefined = pings accepted at any rate. */
	readonly pingPolicy?: PingPolicy | undefined;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
	headerTimeoutMs: 5_000,
	idleTimeoutMs: 60_000,
	maxConcurrentStreams: 250,
	maxHeaderBytes: 0,
	requestTimeoutMs: 60_000,
};

/** After GOAWAY, an idle HTTP/2 connection gets this long to close before its socket is destroyed. */
const GOAWAY_GRACE_MS = 1_000;
/** Header fields per HTTP/2 request (Node's default is 128; real requests send a few dozen). */
const MAX_HEADER_LIST_PAIRS = 256;

/**
 * Node checks `headersTimeout`/`requestTimeout` on a timer with this period; a fraction of the header timeout
 * keeps the check accurate without waking often.
 */
function checkingIntervalMs(limits: ConnectionLimits): number {
	if (limits.headerTimeoutMs <= 0) return 1_000;
	return Math.max(10, Math.min(1_000, Math.floor(limits.headerTimeoutMs / 4)));
}

/** Node rejects a `requestTimeout` below `headersTimeout`; 0 (disabled) stays 0. */
function requestTimeoutOf(limits: ConnectionLimits): number {
	if (limits.requestTimeoutMs <= 0) return 0;
	return Math.max(limits.requestTimeoutMs, limits.headerTimeoutMs);
}

/**
 * Applies the HTTP/1.1 limits to a server (http, https, or an HTTP/2 secure server with `allowHTTP1`). Set as
 * properties, not constructor options, because Http2SecureServer ignores them as options.
 */
export function applyHttp1Limits(
	server: http.Server | http2.Http2SecureServer,
	limits: ConnectionLimits,
): void {
	const target = server as http.Server;
	target.headersTimeout = limits.headerTimeoutMs;
	target.requestTimeout = requestTimeoutOf(limits);
	target.keepAliveTimeout = limits.idleTimeoutMs;
	// Read by Node when the server starts listening (setupConnectionsTracking).
	(
		target as unknown as { connectionsCheckingInterval: number }
	).connectionsCheckingInterval = checkingIntervalMs(limits);
}

/** Constructor options of an http.Server (or https.Server) with the limits and the {@link UnreadBodyResponse}. */
export function http1ServerOptions(
	limits: ConnectionLimits,
): http.ServerOptions {
	return {
		ServerResponse: UnreadBodyResponse,
		...(limits.maxHeaderBytes > 0
			? { maxHeaderSize: limits.maxHeaderBytes }
			: {}),
		headersTimeout: limits.headerTimeoutMs,
		requestTimeout: requestTimeoutOf(limits),
		keepAliveTimeout: limits.idleTimeoutMs,
		connectionsCheckingInterval: checkingIntervalMs(limits),
	};
}

/** HTTP/2 server options with the limits. */
export function http2ServerOptions(
	limits: ConnectionLimits,
): http2.ServerOptions {
	return {
		maxHeaderListPairs: MAX_HEADER_LIST_PAIRS,
		settings: {
			maxConcurrentStreams: limits.maxConcurrentStreams,
			...(limits.maxHeaderBytes > 0
				? { maxHeaderListSize: limits.maxHeaderBytes }
				: {}),
		},
	};
}

/** TLS server options with the limits: the handshake must finish within the header timeout. */
export function tlsServerOptions(limits: ConnectionLimits): {
	handshakeTimeout?: number;
} {
	return limits.headerTimeoutMs > 0
		? { handshakeTimeout: limits.headerTimeoutMs }
		: {};
}

/**
 * Bounds one HTTP/2 session: its first request must arrive within the header timeout, it is closed (GOAWAY) once
 * it has had no open stream for the idle timeout, and `socket` (the connection under it) is destroyed when the
 * session errors, closes, or does not finish closing in time. While streams are open, the session is PINGed
 * every idle timeout and dropped when a PING goes unanswered ({@link LIVENESS_ACK_MIN_MS}): that reclaims a peer
 * that vanished without FIN, and a connection Node 20 silently ended after a protocol error (it sends GOAWAY but
 * emits no event and keeps the descriptor), whose streams would otherwise stay open forever. Client PINGs are
 * checked against `limits.pingPolicy` when set.
 */
export function guardHttp2Session(
	session: http2.ServerHttp2Session,
	socket: net.Socket | undefined,
	limits: ConnectionLimits,
): void {
	let openStreams = 0;
	let sawStream = false;
	const drop = () => {
		session.destroy();
		socket?.destroy();
	};
	const firstRequest =
		limits.headerTimeoutMs > 0
			? setTimeout(() => {
					if (!sawStream) drop();
				}, limits.headerTimeoutMs)
			: undefined;
	firstRequest?.unref();
	const liveness = livenessProbe(session, limits, drop, () => openStreams);
	const pings =
		limits.pingPolicy === undefined
			? undefined
			: enforcePingPolicy(session, limits.pingPolicy, () => openStreams);
	// Idle = no open stream for the idle timeout (PINGs are no activity, as in Go's HTTP/2 server). Per stream only
	// the time the last one closed is written; the timer, armed when streams drop to none unless it is armed
	// already, finds out when it fires whether the connection stayed idle. node:http2's session timeout would
	// instead re-arm a timer at every frame (~6k instructions per gRPC call, measured under callgrind).
	let idleSince = 0;
	let idleTimer: NodeJS.Timeout | undefined;
	const checkIdle = () => {
		idleTimer = undefined;
		if (session.destroyed || openStreams > 0) return;
		const idleForMs = performance.now() - idleSince;
		if (idleForMs < limits.idleTimeoutMs) {
			armIdle(limits.idleTimeoutMs - idleForMs);
			return;
		}
		if (session.closed) {
			drop();
			return;
		}
		session.close();
		setTimeout(drop, GOAWAY_GRACE_MS).unref();
	};
	const armIdle = (ms: number) => {
		if (limits.idleTimeoutMs <= 0 || idleTimer !== undefined) return;
		idleTimer = setTimeout(checkIdle, Math.ceil(ms));
		idleTimer.unref();
	};
	const becameIdle = () => {
		idleSince = performance.now();
		armIdle(limits.idleTimeoutMs);
	};
	becameIdle();
	session.on("stream", (stream: http2.ServerHttp2Stream) => {
		sawStream = true;
		clearTimeout(firstRequest);
		openStreams++;
		pings?.streamOpened();
		if (openStreams === 1) liveness.start();
		stream.once("close", () => {
			openStreams--;
			if (openStreams === 0) becameIdle();
		});
	});
	// A client that goes away without GOAWAY, or breaks the protocol, must not leave an error unhandled.
	session.on("error", drop);
	session.once("close", () => {
		clearTimeout(firstRequest);
		clearTimeout(idleTimer);
		liveness.stop();
		socket?.destroy();
	});
}

/** A liveness PING unanswered for this long (or for one idle timeout, if longer) ends the connection. */
const LIVENESS_ACK_MIN_MS = 2_000;

/**
 * PINGs a session every idle timeout while it has open streams (`openStreams`); `drop` when the previous PING is
 * still unanswered. Started when a stream opens; a tick that finds no open stream stops it, so streams opening and
 * closing one after another do not start and stop a timer each.
 */
function livenessProbe(
	session: http2.ServerHttp2Session,
	limits: ConnectionLimits,
	drop: () => void,
	openStreams: () => number,
): { start(): void; stop(): void } {
	let timer: NodeJS.Timeout | undefined;
	let pendingSince: number | undefined;
	const ackWithinMs = Math.max(limits.idleTimeoutMs, LIVENESS_ACK_MIN_MS);
	const tick = () => {
		if (session.destroyed || session.closed) return;
		if (openStreams() === 0) {
			clearInterval(timer);
			timer = undefined;
			return;
		}
		if (pendingSince !== undefined) {
			if (performance.now() - pendingSince >= ackWithinMs) drop();
			return;
		}
		const sentAt = performance.now();
		const sent = session.ping((error) => {
			if (pendingSince === sentAt) pendingSince = undefined;
			if (error !== null && !session.destroyed) drop();
		});
		if (sent) pendingSince = sentAt;
	};
	return {
		start() {
			if (limits.idleTimeoutMs <= 0 || timer !== undefined) return;
			timer = setInterval(tick, limits.idleTimeoutMs);
			timer.unref();
		},
		stop() {
			clearInterval(timer);
			timer = undefined;
		},
	};
}
