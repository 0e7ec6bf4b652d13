/**
 * Stand-in for the testbed's Envoy listener 9212: an h2c server that answers every request with HTTP 403 and no
 * gRPC status, so gRPC clients see PERMISSION_DENIED (gRPC's HTTP-to-status mapping), as with Envoy's RBAC deny.
 */
import * as http2 from "node:http2";

/** A running forbidden listener. */
export interface ForbiddenProxy {
	readonly port: number;
	/** Requests answered so far. */
	readonly requestCount: number;
	close(): Promise<void>;
}

/** Starts the listener on 127.0.0.1 (`port` 0 = any free port). */
export async function startForbiddenProxy(port = 0): Promise<ForbiddenProxy> {
	const sessions = new Set<http2.ServerHttp2Session>();
	let requests = 0;
	const server = http2.createServer();
	server.on("session", (session) => {
		sessions.add(session);
		session.on("close", () => sessions.delete(session));
	});
	server.on("stream", (stream) => {
		requests += 1;
		stream.on("error", () => undefined); // the client may reset the stream first; nothing to report
		stream.respond({ ":status": 403, "content-type": "text/plain" });
		stream.end("RBAC: access denied");
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => resolve());
	});
	const address = server.address();
	if (address === null || typeof address === "string")
		throw new Error("forbidden proxy: no TCP address");
	return {
		port: address.port,
		get requestCount() {
			return requests;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const session of sessions) session.destroy();
				server.close(() => resolve());
			}),
	};
}
