import type * as http2 from "node:http2";
import { Http2SessionManager } from "@connectrpc/connect-node";

/**
 * connect-node's `Http2SessionManager` with one addition: every HTTP/2 session it hands out keeps an 'error'
 * listener for its whole life.
 *
 * Why: connect-node 2.1 removes its own session listeners when it leaves a state (`abort()`, a reconnect, a
 * GOAWAY). A session that node:http2 has already destroyed (PING or SETTINGS flood detected, flow-control error
 * from the server) emits its 'error' only once its socket has closed, which can be after that point; an 'error'
 * event without a listener is thrown, i.e. the user's process ends. The error is not lost: node:http2 fails every
 * stream of the session with it first, so the calls and the event stream on it reject (connect turns that into
 * their ConnectError), and the manager dials a new session for the next call.
 */
export class GuardedHttp2SessionManager extends Http2SessionManager {
	private readonly guarded = new WeakSet<http2.Http2Session>();

	override async request(
		method: string,
		path: string,
		headers: http2.OutgoingHttpHeaders,
		options: Omit<http2.ClientSessionRequestOptions, "signal">,
	): Promise<http2.ClientHttp2Stream> {
		const stream = await super.request(method, path, headers, options);
		const session = stream.session;
		if (session !== undefined && !this.guarded.has(session)) {
			this.guarded.add(session);
			session.on("error", ignoreSessionError);
		}
		return stream;
	}
}

/** The streams of the session have already failed with this error (see the class comment). */
function ignoreSessionError(): void {}
