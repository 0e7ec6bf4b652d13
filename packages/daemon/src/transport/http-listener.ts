/**
 * Listeners for the daemon's ports, with shutdown that leaves no handle behind: every raw socket and HTTP/2
 * session is tracked and destroyed after a short drain (an HTTP/2 server's `close()` otherwise waits for clients).
 * The evaluation and management ports serve HTTP/1.1 and cleartext HTTP/2 on one socket by sniffing the HTTP/2
 * preface (toolchain.md §3); with TLS, ALPN chooses. Every listener applies the same connection limits
 * (connection-limits.ts) and, with TLS, can require client certificates.
 */
import { existsSync, lstatSync, readFileSync, unlinkSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { DaemonError } from "../errors.js";
import {
	applyHttp1Limits,
	type ConnectionLimits,
	DEFAULT_CONNECTION_LIMITS,
	guardHttp2Session,
	http1ServerOptions,
	http2ServerOptions,
	tlsServerOptions,
} from "./connection-limits.js";
import { serveHttp2Streams } from "./http2-stream-server.js";
import { sniff } from "./protocol-sniff.js";
import { BodyDeadlines } from "./request-body-deadline.js";
import type {
	NodeRequest,
	NodeResponse,
	RequestHandler,
} from "./request-handler.js";
import { UnreadBodyResponse } from "./unread-body-response.js";

export type { NodeRequest, NodeResponse, RequestHandler };

/** Where and how one listener binds. */
export interface ListenTarget {
	readonly port: number;
	readonly host: string;
	/** Unix socket path; replaces port/host when set. */
	readonly socketPath?: string | undefined;
	readonly tls?: ListenTls | undefined;
	/** Request header limit; 0 = Node's default. Overrides `limits.maxHeaderBytes`. */
	readonly maxHeaderBytes: number;
	/** Name for error messages (`evaluation`, `sync`, …). */
	readonly name: string;
	/** A connection that sends nothing for this long is dropped. @default limits.headerTimeoutMs */
	readonly silentClientTimeoutMs?: number;
	/** Time, size and stream limits per connection. @default DEFAULT_CONNECTION_LIMITS */
	readonly limits?: Partial<ConnectionLimits> | undefined;
}

/** Server certificate and key (PEM files), and optionally the CA that client certificates must chain to. */
export interface ListenTls {
	readonly certPath: string;
	readonly keyPath: string;
	/** When set, a client must present a certificate signed by this CA (mutual TLS). */
	readonly clientCaPath?: string | undefined;
}

export interface RunningListener {
	/** Bound TCP port, or undefined on a unix socket. */
	readonly port: number | undefined;
	/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then destroys every connection. */
	close(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 1_000;

function limitsOf(target: ListenTarget): ConnectionLimits {
	return {
		...DEFAULT_CONNECTION_LIMITS,
		...target.limits,
		...(target.silentClientTimeoutMs === undefined
			? {}
			: { headerTimeoutMs: target.silentClientTimeoutMs }),
		maxHeaderBytes: target.maxHeaderBytes,
	};
}

/** One listener's HTTP/2 body deadlines (request-body-deadline.ts); none when the request timeout is 0. */
function bodyDeadlines(limits: ConnectionLimits): BodyDeadlines | undefined {
	return limits.requestTimeoutMs > 0
		? new BodyDeadlines(limits.requestTimeoutMs)
		: undefined;
}

/** HTTP/1.1 + h2c on one port (preface sniff), or HTTPS with ALPN h2/http1.1 when `tls` is set. */
export function listenMultiProtocol(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	const limits = limitsOf(target);
	if (target.tls !== undefined) {
		const server = http2.createSecureServer({
			...readTls(target),
			...tlsServerOptions(limits),
			allowHTTP1: true,
			Http1ServerResponse: UnreadBodyResponse,
			...http2ServerOptions(limits),
		});
		serveHttp2Streams(server, handler, bodyDeadlines(limits), true);
		applyHttp1Limits(server, limits);
		return bind(server, target, tracked(server, limits));
	}
	const h1 = http.createServer(http1ServerOptions(limits), handler);
	const h2 = http2.createServer(http2ServerOptions(limits));
	serveHttp2Streams(h2, handler, bodyDeadlines(limits));
	const tracker = tracked(h2, limits);
	trackBusy(h1, tracker);
	// Node checks headersTimeout/requestTimeout only on servers that emitted "listening"; this one never listens
	// (the front server hands it sockets), so it is told it does.
	h1.emit("listening");
	const front = net.createServer((socket) => {
		tracker.sockets.add(socket);
		socket.once("close", () => {
			tracker.sockets.delete(socket);
			tracker.h1Sockets.delete(socket);
			tracker.busy.delete(socket);
		});
		socket.on("error", () => socket.destroy());
		sniff(socket, limits.headerTimeoutMs, (isH2) => {
			if (!isH2) tracker.h1Sockets.add(socket);
			(isH2 ? h2 : h1).emit("connection", socket);
		});
	});
	return bind(front, target, tracker, h1);
}

/** HTTP/2 only (the sync port is real gRPC): h2c, or TLS when `tls` is set. */
export function listenHttp2(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	const limits = limitsOf(target);
	const server =
		target.tls === undefined
			? http2.createServer(http2ServerOptions(limits))
			: http2.createSecureServer({
					...readTls(target),
					...tlsServerOptions(limits),
					...http2ServerOptions(limits),
				});
	serveHttp2Streams(server, handler, bodyDeadlines(limits));
	return bind(server, target, tracked(server, limits));
}

/** Plain HTTP/1.1 (OFREP), or HTTPS when `tls` is set. */
export function listenHttp1(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	const limits = limitsOf(target);
	const server =
		target.tls === undefined
			? http.createServer(http1ServerOptions(limits), handler)
			: https.createServer(
					{
						...readTls(target),
						...tlsServerOptions(limits),
						...http1ServerOptions(limits),
					},
					handler,
				);
	return bind(server, target, tracked(server, limits), server);
}

interface Tracker {
	readonly sockets: Set<net.Socket>;
	readonly sessions: Set<http2.ServerHttp2Session>;
	/** HTTP/1.1 sockets handed over by the sniffer; the inner http.Server does not track them (it never listens). */
	readonly h1Sockets: Set<net.Socket>;
	/** HTTP/1.1 sockets with a request in flight. */
	readonly busy: Set<net.Socket>;
	closing: boolean;
}

/** Marks sniffed HTTP/1.1 sockets busy per request, so close can end idle keep-alive sockets at once. */
function trackBusy(h1: http.Server, tracker: Tracker): void {
	h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
		const socket = req.socket;
		tracker.busy.add(socket);
		// 'close' comes once per response: `on` spares the once-wrapper per request.
		res.on("close", () => {
			tracker.busy.delete(socket);
			if (tracker.closing) socket.end();
		});
	});
}

function tracked(
	server: net.Server | http2.Http2Server | http2.Http2SecureServer,
	limits: ConnectionLimits,
): Tracker {
	const tracker: Tracker = {
		sockets: new Set(),
		sessions: new Set(),
		h1Sockets: new Set(),
		busy: new Set(),
		closing: false,
	};
	server.on("connection", (socket: net.Socket) => {
		tracker.sockets.add(socket);
		socket.once("close", () => tracker.sockets.delete(socket));
	});
	// The socket a session is about to be created on: Node emits "session" from its own connection listener, and
	// the session exposes only a proxy of the socket, which cannot be destroyed.
	let incoming: net.Socket | undefined;
	server.prependListener(
		server instanceof net.Server && "setSecureContext" in server
			? "secureConnection"
			: "connection",
		(socket: net.Socket) => {
			incoming = socket;
		},
	);
	server.on("session", (session: http2.ServerHttp2Session) => {
		tracker.sessions.add(session);
		session.once("close", () => tracker.sessions.delete(session));
		guardHttp2Session(session, incoming, limits);
		incoming = undefined;
	});
	return tracker;
}

interface TlsFiles {
	cert: Buffer;
	key: Buffer;
	ca?: Buffer;
	requestCert?: boolean;
	rejectUnauthorized?: boolean;
}

function readTls(target: ListenTarget): TlsFiles {
	const tls = target.tls;
	if (tls === undefined) throw new TypeError("readTls without tls");
	let files: TlsFiles;
	try {
		files = {
			cert: readFileSync(tls.certPath),
			key: readFileSync(tls.keyPath),
		};
	} catch (e: unknown) {
		throw new DaemonError(
			"CONFIG_INVALID",
			`${target.name} listener: cannot read TLS certificate/key (${tls.certPath}, ${tls.keyPath}): ${String(e)}`,
			{ cause: e },
		);
	}
	if (tls.clientCaPath === undefined) return files;
	try {
		files.ca = readFileSync(tls.clientCaPath);
	} catch (e: unknown) {
		throw new DaemonError(
			"CONFIG_INVALID",
			`${target.name} listener: cannot read the client CA certificate (${tls.clientCaPath}): ${String(e)}`,
			{ cause: e },
		);
	}
	// Mutual TLS: the handshake fails for a client without a certificate signed by this CA.
	return { ...files, requestCert: true, rejectUnauthorized: true };
}

function bind(
	server: net.Server,
	target: ListenTarget,
	tracker: Tracker,
	h1?: http.Server,
): Promise<RunningListener> {
	return new Promise((resolve, reject) => {
		const onError = (e: Error) => {
			reject(
				new DaemonError(
					"LISTEN_FAILED",
					`${target.name} listener cannot bind ${describeTarget(target)}: ${e.message}`,
					{ cause: e },
				),
			);
		};
		server.once("error", onError);
		const listening = () => {
			server.off("error", onError);
			const address = server.address();
			const port =
				typeof address === "object" && address !== null
					? address.port
					: undefined;
			resolve({
				port,
				close: (graceMs) => closeListener(server, tracker, h1, graceMs),
			});
		};
		if (target.socketPath !== undefined) {
			removeStaleSocket(target.socketPath);
			server.listen(target.socketPath, listening);
		} else {
			server.listen(target.port, target.host, listening);
		}
	});
}

function describeTarget(target: ListenTarget): string {
	return target.socketPath ?? `${target.host}:${target.port}`;
}

/** A socket file left by a crashed daemon would make listen fail with EADDRINUSE; anything else is kept. */
function removeStaleSocket(path: string): void {
	if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}

async function closeListener(
	server: net.Server,
	tracker: Tracker,
	h1: http.Server | undefined,
	graceMs = DEFAULT_GRACE_MS,
): Promise<void> {
	const closed = new Promise<void>((resolve) => server.close(() => resolve()));
	tracker.closing = true;
	h1?.closeIdleConnections();
	for (const socket of tracker.h1Sockets)
		if (!tracker.busy.has(socket)) socket.end();
	for (const session of tracker.sessions) session.close();
	const drained = waitUntil(
		() => tracker.sessions.size === 0 && tracker.sockets.size === 0,
		graceMs,
	);
	await drained;
	h1?.closeAllConnections();
	for (const session of tracker.sessions) session.destroy();
	for (const socket of tracker.sockets) socket.destroy();
	// The sniffing listener's inner HTTP/1.1 server never listened, but runs Node's timeout check timer.
	if (h1 !== undefined && h1 !== server) h1.close(() => {});
	await closed;
}

async function waitUntil(
	condition: () => boolean,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition() && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
