import http2 from "node:http2";
import type net from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	type ConnectionLimits,
	DEFAULT_CONNECTION_LIMITS,
	guardHttp2Session,
} from "./connection-limits.js";
import type { PingPolicy } from "./ping-policy.js";

const servers: http2.Http2Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy();
	await Promise.all(
		servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))),
	);
});

/** A real h2c server with the policy; `/hold` streams stay open until the client ends them. */
async function serve(pingPolicy: PingPolicy) {
	const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, pingPolicy };
	const server = http2.createServer();
	servers.push(server);
	let incoming: net.Socket | undefined;
	server.prependListener("connection", (socket: net.Socket) => {
		incoming = socket;
	});
	server.on("session", (session) =>
		guardHttp2Session(session, incoming, limits),
	);
	server.on("stream", (stream, headers) => {
		stream.on("error", () => {});
		stream.respond({ ":status": 200 });
		if (headers[":path"] !== "/hold") stream.end("ok");
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as net.AddressInfo;
	const client = http2.connect(`http://127.0.0.1:${port}`);
	client.on("error", () => {});
	clients.push(client);
	await new Promise<void>((resolve) => client.once("connect", () => resolve()));
	return client;
}

function ping(client: http2.ClientHttp2Session): Promise<boolean> {
	return new Promise((resolve) => {
		if (client.destroyed || client.closed) resolve(false);
		else client.ping((error) => resolve(error === null));
	});
}

interface Goaway {
	readonly code: number;
	readonly data: string;
}

function goaway(client: http2.ClientHttp2Session): Promise<Goaway> {
	return new Promise((resolve) =>
		client.once("goaway", (code: number, _last: number, data?: Buffer) =>
			resolve({ code, data: data?.toString() ?? "" }),
		),
	);
}

const TOO_MANY_PINGS = {
	code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
	data: "too_many_pings",
};

describe("enforcePingPolicy", () => {
	it("ends a connection that pings faster than the minimum time with GOAWAY ENHANCE_YOUR_CALM too_many_pings", async () => {
		const client = await serve({
			minTimeMs: 60_000,
			permitWithoutStream: true,
		});
		const ended = goaway(client);
		// The first PING sets the clock; the next three come too soon: strikes 1, 2, 3 (> 2 allowed).
		for (let i = 0; i < 4; i++) await ping(client);
		expect(await ended).toEqual(TOO_MANY_PINGS);
		await new Promise<void>((resolve) => client.once("close", () => resolve()));
	});

	it("tolerates two fast pings, and a new stream clears the strikes", async () => {
		const client = await serve({
			minTimeMs: 60_000,
			permitWithoutStream: true,
		});
		let endedBy: Goaway | undefined;
		void goaway(client).then((g) => {
			endedBy = g;
		});
		for (let round = 0; round < 3; round++) {
			// first/clock or cleared, strike, strike
			for (let i = 0; i < 3; i++) expect(await ping(client)).toBe(true);
			await new Promise<void>((resolve, reject) => {
				const stream = client.request({ ":path": "/" });
				stream.on("error", reject);
				stream.resume();
				stream.on("close", () => resolve());
			});
		}
		expect(endedBy).toBeUndefined();
		expect(client.closed).toBe(false);
	});

	it("accepts pings at any rate when the minimum time is 0", async () => {
		const client = await serve({ minTimeMs: 0, permitWithoutStream: true });
		for (let i = 0; i < 20; i++) expect(await ping(client)).toBe(true);
		expect(client.closed).toBe(false);
	});

	it("refuses repeated pings without an open stream unless permitted, and accepts them with a stream", async () => {
		const held = await serve({ minTimeMs: 0, permitWithoutStream: false });
		const stream = held.request({ ":path": "/hold" });
		stream.on("error", () => {});
		await new Promise<void>((resolve) =>
			stream.once("response", () => resolve()),
		);
		for (let i = 0; i < 10; i++) expect(await ping(held)).toBe(true);
		stream.close();

		const idle = await serve({ minTimeMs: 0, permitWithoutStream: false });
		const ended = goaway(idle);
		for (let i = 0; i < 4; i++) await ping(idle);
		expect(await ended).toEqual(TOO_MANY_PINGS);
	});
});
