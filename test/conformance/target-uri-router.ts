/**
 * Stand-in for the testbed's Envoy listener 9211: an h2c reverse proxy that routes each request by its
 * `:authority` (`rpc.service` → the evaluation port, `sync.service`/`flagd-sync.service`/`sync.flagd.local` → the
 * sync port, anything else → the evaluation port), forwarding headers, body and trailers so gRPC streams work
 * end to end. Used by the `envoy://localhost:<port>/rpc.service` targetUri scenarios.
 */
import * as http2 from "node:http2";

/** Where the router forwards to; read on every request, so a restarted daemon on the same ports is found again. */
export interface RouterUpstreams {
	readonly evaluation: { readonly host: string; readonly port: number };
	readonly sync: { readonly host: string; readonly port: number };
}

/** A running router. */
export interface TargetUriRouter {
	readonly port: number;
	/** Authorities seen so far, in order (lets tests prove the route was taken). */
	readonly authorities: readonly string[];
	close(): Promise<void>;
}

const SYNC_AUTHORITIES = new Set([
	"sync.service",
	"flagd-sync.service",
	"sync.flagd.local",
]);
// Connection-specific headers must not be forwarded over HTTP/2 (RFC 9113 §8.2.2).
const HOP_BY_HOP = new Set([
	"connection",
	"keep-alive",
	"proxy-connection",
	"transfer-encoding",
	"upgrade",
]);

function forwardable(
	headers: http2.IncomingHttpHeaders,
): http2.OutgoingHttpHeaders {
	const out: http2.OutgoingHttpHeaders = {};
	for (const [name, value] of Object.entries(headers)) {
		if (name.startsWith(":") || HOP_BY_HOP.has(name) || value === undefined)
			continue;
		out[name] = value;
	}
	return out;
}

/** Starts the router on 127.0.0.1 (`port` 0 = any free port). */
export async function startTargetUriRouter(
	upstreams: RouterUpstreams,
	port = 0,
): Promise<TargetUriRouter> {
	const downstreamSessions = new Set<http2.ServerHttp2Session>();
	const upstreamSessions = new Map<string, http2.ClientHttp2Session>();
	const authorities: string[] = [];

	const upstreamSession = (
		host: string,
		upstreamPort: number,
	): http2.ClientHttp2Session => {
		const origin = `http://${host}:${upstreamPort}`;
		const existing = upstreamSessions.get(origin);
		if (existing !== undefined && !existing.closed && !existing.destroyed)
			return existing;
		const session = http2.connect(origin);
		// Connection failures surface on the forwarded streams; the session-level error needs a listener too.
		session.on("error", () => undefined);
		session.on("close", () => {
			if (upstreamSessions.get(origin) === session)
				upstreamSessions.delete(origin);
		});
		upstreamSessions.set(origin, session);
		return session;
	};

	const server = http2.createServer();
	server.on("session", (session) => {
		downstreamSessions.add(session);
		session.on("close", () => downstreamSessions.delete(session));
	});
	server.on("stream", (downstream, headers) => {
		const authority = String(headers[":authority"] ?? "");
		authorities.push(authority);
		const host = authority.replace(/:\d+$/, "");
		const target = SYNC_AUTHORITIES.has(host)
			? upstreams.sync
			: upstreams.evaluation;
		downstream.on("error", () => undefined); // reset by the client: the upstream side is closed below
		let upstream: http2.ClientHttp2Stream;
		try {
			upstream = upstreamSession(target.host, target.port).request({
				...forwardable(headers),
				":method": String(headers[":method"] ?? "POST"),
				":path": String(headers[":path"] ?? "/"),
				":scheme": "http",
				":authority": `${target.host}:${target.port}`,
			});
		} catch {
			// Like Envoy with no healthy upstream: 503, which gRPC clients read as UNAVAILABLE.
			if (!downstream.destroyed)
				downstream.respond({ ":status": 503 }, { endStream: true });
			return;
		}
		let trailers: http2.OutgoingHttpHeaders = {};
		upstream.on("response", (responseHeaders, flags) => {
			const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
			if (downstream.destroyed) return;
			const out = {
				...forwardable(responseHeaders),
				":status": Number(responseHeaders[":status"] ?? 200),
			};
			if (endStream) {
				downstream.respond(out, { endStream: true });
				return;
			}
			downstream.respond(out, { waitForTrailers: true });
		});
		upstream.on("trailers", (upstreamTrailers) => {
			trailers = forwardable(upstreamTrailers);
		});
		downstream.on("wantTrailers", () => downstream.sendTrailers(trailers));
		upstream.on("data", (chunk: Buffer) => {
			if (!downstream.destroyed && downstream.headersSent)
				downstream.write(chunk);
		});
		upstream.on("end", () => {
			if (
				!downstream.destroyed &&
				downstream.headersSent &&
				!downstream.writableEnded
			)
				downstream.end();
		});
		upstream.on("error", () => {
			// Upstream gone (e.g. the daemon restarts): reset the client stream as Envoy would.
			if (downstream.destroyed) return;
			if (!downstream.headersSent)
				downstream.respond({ ":status": 503 }, { endStream: true });
			else downstream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
		});
		upstream.on("close", () => {
			if (!downstream.destroyed && !downstream.writableEnded) {
				if (!downstream.headersSent)
					downstream.respond({ ":status": 503 }, { endStream: true });
				else downstream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
			}
		});
		downstream.pipe(upstream);
		downstream.on("close", () => {
			if (!upstream.destroyed) upstream.close(http2.constants.NGHTTP2_CANCEL);
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => resolve());
	});
	const address = server.address();
	if (address === null || typeof address === "string")
		throw new Error("target-uri router: no TCP address");
	return {
		port: address.port,
		authorities,
		close: () =>
			new Promise<void>((resolve) => {
				for (const session of downstreamSessions) session.destroy();
				for (const session of upstreamSessions.values()) session.destroy();
				upstreamSessions.clear();
				server.close(() => resolve());
			}),
	};
}
