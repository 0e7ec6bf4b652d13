/**
 * A small HTTP/2 client for short request/response exchanges (gRPC unary calls): one connection at a time,
 * dialled on first use and again after it closes or is told to go away; streams the server refused are sent
 * once more on a fresh connection (gRPC's transparent retry); optional keep-alive PINGs while calls are open;
 * a PING probe to drop a connection that stopped answering. The socket is unreferenced while no call is open,
 * so an idle client never keeps the process alive.
 */
import type * as net from "node:net";
import type * as tls from "node:tls";
import {
	Http2ClientStream,
	type Http2StreamHandler,
} from "./http2-client-stream.js";
import { Http2Connection } from "./http2-connection.js";
import { Http2ErrorCode } from "./http2-frame.js";
import { Http2StreamError } from "./http2-stream-error.js";

/** Options of {@link Http2Client}. */
export interface Http2ClientOptions {
	/** Starts a new connection: `net.connect(...)` or `tls.connect(...)` with ALPN `h2`. */
	readonly dial: () => net.Socket | tls.TLSSocket;
	/** Whether `dial` returns TLS sockets (ALPN must then select `h2`). */
	readonly secure: boolean;
	/** Interval of keep-alive PINGs while calls are open and nothing arrives, in ms; 0 = none. */
	readonly keepAliveTimeMs?: number;
	/** Time a keep-alive PING may stay unanswered before the connection is dropped, in ms (default 15 000). */
	readonly keepAliveTimeoutMs?: number;
}

// The same as connect-node's ping timeout on the event stream's connection, so both connections give up alike.
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 15_000;

/** See the file comment. */
export class Http2Client {
	private connection: Http2Connection | undefined;
	private readonly connections = new Set<Http2Connection>();
	private keepAliveTimer: NodeJS.Timeout | undefined;
	private readonly connectionEvents = {
		retry: (stream: Http2ClientStream) => this.retry(stream),
		closed: (connection: Http2Connection) => {
			this.connections.delete(connection);
			if (this.connection === connection) this.connection = undefined;
		},
	};

	constructor(private readonly options: Http2ClientOptions) {}

	/** Sends a request; the answer goes to `handler`. `headerBlock` is HPACK-encoded, `body` is sent whole. */
	request(
		headerBlock: Uint8Array,
		body: Uint8Array,
		handler: Http2StreamHandler,
	): Http2ClientStream {
		const stream = new Http2ClientStream(headerBlock, body, handler);
		this.openOnCurrent(stream);
		return stream;
	}

	/**
	 * Checks the connection `stream` was sent on after it went unanswered past its deadline: a PING without an
	 * ACK within `timeoutMs` drops the connection (a black-holed peer would otherwise take every later call).
	 */
	probe(stream: Http2ClientStream, timeoutMs: number): void {
		stream.connection?.ping(timeoutMs, noop);
	}

	/** Drops every connection; open calls fail as connection losses. The next request dials again. */
	reset(reason = "the client reset its connections"): void {
		for (const connection of [...this.connections]) {
			connection.destroy(
				new Http2StreamError(reason, "connection", Http2ErrorCode.CANCEL),
			);
		}
		this.connection = undefined;
	}

	/** Like {@link reset}, and stops the keep-alive timer; nothing is left open. The client may be used again. */
	close(): void {
		this.reset("the client was closed");
		if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
		this.keepAliveTimer = undefined;
	}

	private openOnCurrent(stream: Http2ClientStream): void {
		let connection = this.connection;
		if (connection === undefined || !connection.usable) {
			let socket: net.Socket | tls.TLSSocket;
			try {
				socket = this.options.dial();
			} catch (err: unknown) {
				stream.handler.onFailure(
					new Http2StreamError(
						`cannot connect: ${err instanceof Error ? err.message : String(err)}`,
						"connection",
						Http2ErrorCode.CONNECT_ERROR,
						{ cause: err },
					),
				);
				return;
			}
			connection = new Http2Connection(
				socket,
				this.connectionEvents,
				this.options.secure,
			);
			this.connection = connection;
			this.connections.add(connection);
			this.startKeepAlive();
		}
		connection.open(stream);
	}

	private retry(stream: Http2ClientStream): boolean {
		if (stream.retried || stream.cancelled) return false;
		stream.retried = true;
		stream.rewind();
		this.openOnCurrent(stream);
		return true;
	}

	private startKeepAlive(): void {
		const intervalMs = this.options.keepAliveTimeMs ?? 0;
		if (intervalMs <= 0 || this.keepAliveTimer !== undefined) return;
		const timeoutMs =
			this.options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
		this.keepAliveTimer = setInterval(() => {
			for (const connection of this.connections) {
				// Quiet connections with calls open get a PING; traffic proves the connection is alive.
				if (!connection.takeActivity() && connection.activeStreams > 0) {
					connection.ping(timeoutMs, noop);
				}
			}
		}, intervalMs);
		this.keepAliveTimer.unref();
	}
}

function noop(): void {}
