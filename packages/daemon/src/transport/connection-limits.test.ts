import http2 from "node:http2";
import type net from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	type ConnectionLimits,
	DEFAULT_CONNECTION_LIMITS,
	guardHttp2Session,
	http2ServerOptions,
} from "./connection-limits.js";

const servers: http2.Http2Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy();
	await Promise.all(
		servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))),
	);
});

/** A real h2c server whose sessions are guarded; `hold` paths are answered only when the client ends them. */
async function serve(limits: Partial<ConnectionLimits>) {
	const all = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
	const server = http2.createServer(http2ServerOptions(all));
	servers.push(server);
	const sessions: http2.ServerHttp2Session[] = [];
	let incoming: net.Socket | undefined;
	server.prependListener("connection", (socket: net.Socket) => {
		incoming = socket;
	});
	server.on("session", (session) => {
		sessions.push(session);
		guardHttp2Session(session, incoming, all);
	});
	server.on("stream", (stream, headers) => {
		stream.on("error", () => {});
		if (headers[":path"] === "/hold") return;
		stream.respond({ ":status": 200 });
		stream.end("ok");
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as net.AddressInfo;
	const connect = () => {
		const client = http2.connect(`http://127.0.0.1:${port}`);
		client.on("error", () => {});
		clients.push(client);
		return client;
	};
	return { sessions, connect };
}

function get(client: http2.ClientHttp2Session, path: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const stream = client.request({ ":path": path });
		stream.on("error", reject);
		stream.resume();
		stream.on("close", () => resolve());
	});
}

describe("guardHttp2Session", () => {
	it("keeps a connection whose requests follow one another past the idle timeout", async () => {
		const { sessions, connect } = await serve({ idleTimeoutMs: 1_000 });
		const client = connect();
		const started = performance.now();
		// Back to back for 2.5 idle timeouts: the connection is never idle that long.
		while (performance.now() - started < 2_500) await get(client, "/");
		expect(client.closed || client.destroyed).toBe(false);
		expect(sessions).toHaveLength(1);
		// node:http2's session timeout (a timer re-armed at every frame) is not used.
		expect(sessions[0]?.listenerCount("timeout")).toBe(0);
	});

	it("closes an idle connection with GOAWAY although its client keeps sending PINGs (as Go's HTTP/2 server)", async () => {
		const { connect } = await serve({ idleTimeoutMs: 200 });
		const client = connect();
		await get(client, "/");
		const pinger = setInterval(() => {
			if (!client.closed && !client.destroyed) client.ping(() => {});
		}, 20);
		try {
			const goaway = new Promise<void>((resolve) =>
				client.once("goaway", () => resolve()),
			);
			const closed = new Promise<void>((resolve) =>
				client.once("close", () => resolve()),
			);
			await goaway;
			await closed;
		} finally {
			clearInterval(pinger);
		}
	});

	it("closes a connection idle for the idle timeout, but not one with an open stream", async () => {
		const { connect } = await serve({ idleTimeoutMs: 100 });
		const idle = connect();
		await get(idle, "/");
		const busy = connect();
		const held = busy.request({ ":path": "/hold" });
		held.on("error", () => {});
		await new Promise<void>((resolve) => idle.once("close", () => resolve()));
		// The idle one is gone after ~100 ms; the one with a stream outlives several idle periods.
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(busy.closed || busy.destroyed).toBe(false);
		held.close();
		await new Promise<void>((resolve) => busy.once("close", () => resolve()));
	});

	it("drops a connection that sends no request within the header timeout", async () => {
		const { connect } = await serve({ headerTimeoutMs: 100, idleTimeoutMs: 0 });
		const client = connect();
		await new Promise<void>((resolve) => client.once("close", () => resolve()));
		expect(client.destroyed).toBe(true);
	});
});
