/**
 * Listeners for the daemon's ports, with shutdown that leaves no handle behind: every raw socket and HTTP/2
 * session is tracked and destroyed after a short drain (an HTTP/2 server's `close()` otherwise waits for clients).
 * The evaluation port serves HTTP/1.1 and cleartext HTTP/2 on one socket by sniffing the HTTP/2 preface
 * (toolchain.md §3); with TLS, ALPN chooses.
 */
import { existsSync, lstatSync, readFileSync, unlinkSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, {
	type Http2ServerRequest,
	type Http2ServerResponse,
} from "node:http2";
import net from "node:net";
import { DaemonError } from "../errors.js";

/** A request of either HTTP version, as the listeners hand it to handlers. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A response of either HTTP version. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

export type RequestHandler = (req: NodeRequest, res: NodeResponse) => void;

/** Where and how one listener binds. */
export interface ListenTarget {
	readonly port: number;
	readonly host: string;
	/** Unix socket path; replaces port/host when set. */
	readonly socketPath?: string | undefined;
	readonly tls?:
		| { readonly certPath: string; readonly keyPath: string }
		| undefined;
	/** Request header limit; 0 = Node's default. */
	readonly maxHeaderBytes: number;
	/** Name for error messages (`evaluation`, `sync`, …). */
	readonly name: string;
	/** Evaluation port: a connection that sends nothing for this long is dropped. @default 5_000 */
	readonly silentClientTimeoutMs?: number;
}

export interface RunningListener {
	/** Bound TCP port, or undefined on a unix socket. */
	readonly port: number | undefined;
	/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then destroys every connection. */
	close(graceMs?: number): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** A client that connects and sends nothing is dropped after this long (flagd's ReadHeaderTimeout is 1 s). */
const SILENT_CLIENT_TIMEOUT_MS = 5_000;
const DEFAULT_GRACE_MS = 1_000;

/** HTTP/1.1 + h2c on one port (preface sniff), or HTTPS with ALPN h2/http1.1 when `tls` is set. */
export function listenMultiProtocol(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	if (target.tls !== undefined) {
		const server = http2.createSecureServer(
			{ ...readTls(target), allowHTTP1: true, ...h2Limits(target) },
			handler,
		);
		return bind(server, target, tracked(server));
	}
	const h1 = http.createServer(h1Options(target), handler);
	const h2 = http2.createServer(h2Limits(target), handler);
	const tracker = tracked(h2);
	trackBusy(h1, tracker);
	const silentMs = target.silentClientTimeoutMs ?? SILENT_CLIENT_TIMEOUT_MS;
	const front = net.createServer((socket) => {
		tracker.sockets.add(socket);
		socket.once("close", () => {
			tracker.sockets.delete(socket);
			tracker.h1Sockets.delete(socket);
			tracker.busy.delete(socket);
		});
		socket.setTimeout(silentMs, () => socket.destroy());
		socket.once("readable", () => {
			socket.setTimeout(0);
			const chunk: Buffer | null = socket.read(PREFACE.length) ?? socket.read();
			if (chunk === null) {
				socket.destroy();
				return;
			}
			socket.unshift(chunk);
			const n = Math.min(chunk.length, PREFACE.length);
			const isH2 = chunk.subarray(0, n).equals(PREFACE.subarray(0, n));
			if (!isH2) tracker.h1Sockets.add(socket);
			(isH2 ? h2 : h1).emit("connection", socket);
		});
		socket.on("error", () => socket.destroy());
	});
	return bind(front, target, tracker);
}

/** HTTP/2 only (the sync port is real gRPC): h2c, or TLS when `tls` is set. */
export function listenHttp2(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	const server =
		target.tls === undefined
			? http2.createServer(h2Limits(target), handler)
			: http2.createSecureServer(
					{ ...readTls(target), ...h2Limits(target) },
					handler,
				);
	return bind(server, target, tracked(server));
}

/** Plain HTTP/1.1 (management, OFREP). */
export function listenHttp1(
	handler: RequestHandler,
	target: ListenTarget,
): Promise<RunningListener> {
	const server = http.createServer(h1Options(target), handler);
	return bind(server, target, tracked(server), server);
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
		res.once("close", () => {
			tracker.busy.delete(socket);
			if (tracker.closing) socket.end();
		});
	});
}

function tracked(
	server: net.Server | http2.Http2Server | http2.Http2SecureServer,
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
	server.on("session", (session: http2.ServerHttp2Session) => {
		tracker.sessions.add(session);
		session.once("close", () => tracker.sessions.delete(session));
		// A client that goes away without GOAWAY must not leave an error unhandled.
		session.on("error", () => session.destroy());
	});
	return tracker;
}

function h1Options(target: ListenTarget): http.ServerOptions {
	return target.maxHeaderBytes > 0
		? { maxHeaderSize: target.maxHeaderBytes }
		: {};
}

function h2Limits(target: ListenTarget): http2.ServerOptions {
	return target.maxHeaderBytes > 0
		? { settings: { maxHeaderListSize: target.maxHeaderBytes } }
		: {};
}

function readTls(target: ListenTarget): { cert: Buffer; key: Buffer } {
	const tls = target.tls;
	if (tls === undefined) throw new TypeError("readTls without tls");
	try {
		return { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
	} catch (e: unknown) {
		throw new DaemonError(
			"CONFIG_INVALID",
			`${target.name} listener: cannot read TLS certificate/key (${tls.certPath}, ${tls.keyPath}): ${String(e)}`,
			{ cause: e },
		);
	}
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
