import type * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import { Http2SessionManager } from "@connectrpc/connect-node";

/** Opens the connection (TCP, TLS or a unix socket) a new HTTP/2 session runs on. */
export type Http2Dial = () => Duplex;

/**
 * connect-node's `Http2SessionManager` with two additions that keep a hostile or broken server from hurting the
 * user's process.
 *
 * 1. Every HTTP/2 session it hands out keeps an 'error' listener for its whole life. connect-node 2.1 removes its
 *    own session listeners when it leaves a state (`abort()`, a reconnect, a GOAWAY). A session that node:http2 has
 *    already destroyed (PING or SETTINGS flood detected, flow-control error from the server) emits its 'error'
 *    only once its socket has closed, which can be after that point; an 'error' event without a listener is
 *    thrown, i.e. the user's process ends. The error is not lost: node:http2 fails every stream of the session
 *    with it first, so the calls and the event stream on it reject (connect turns that into their ConnectError),
 *    and the manager dials a new session for the next call.
 * 2. It owns the sockets its sessions run on and destroys them when it is aborted. A session that node:http2 has
 *    given up on (a server sending bytes that never form a valid frame) can be dropped by the manager while its
 *    socket stays open, and nothing else would ever close it: measured against such a server, one connection in
 *    two rounds stayed open after `close()` for as long as the server kept it (test/integration/
 *    provider-hostile-server.test.ts, "garbage").
 */
export class GuardedHttp2SessionManager extends Http2SessionManager {
	private readonly guarded = new WeakSet<http2.Http2Session>();
	private readonly sockets = new Set<Duplex>();

	constructor(
		url: string,
		pingOptions: ConstructorParameters<typeof Http2SessionManager>[1],
		sessionOptions: http2.SecureClientSessionOptions,
		dial: Http2Dial,
	) {
		super(url, pingOptions, {
			...sessionOptions,
			createConnection: () => this.track(dial()),
		});
	}

	// Not async: an extra async frame per call would add microtask hops to every evaluation.
	override request(
		method: string,
		path: string,
		headers: http2.OutgoingHttpHeaders,
		options: Omit<http2.ClientSessionRequestOptions, "signal">,
	): Promise<http2.ClientHttp2Stream> {
		return super.request(method, path, headers, options).then((stream) => {
			const session = stream.session;
			if (session !== undefined && !this.guarded.has(session)) {
				this.guarded.add(session);
				session.on("error", ignoreSessionError);
			}
			return stream;
		});
	}

	/** Closes every session (connect-node) and then every socket a session was opened on (see the class comment). */
	override abort(reason?: Error): void {
		super.abort(reason);
		for (const socket of this.sockets) socket.destroy();
		this.sockets.clear();
	}

	private track(socket: Duplex): Duplex {
		this.sockets.add(socket);
		socket.once("close", () => this.sockets.delete(socket));
		return socket;
	}
}

/** The streams of the session have already failed with this error (see the class comment). */
function ignoreSessionError(): void {}
