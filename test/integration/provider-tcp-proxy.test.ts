/**
 * The fault-injection TCP proxy used by the provider tests (test/support/tcp-proxy.ts), checked against a plain
 * TCP echo server: forwarding, cut (FIN), reset (RST), stall/resume, slow, block/unblock and close.
 */
import * as net from "node:net";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import { waitFor } from "../support/provider-test-helpers.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let echo: net.Server;
let echoPort: number;
let proxy: TcpProxy;
const clients: net.Socket[] = [];
const serverSockets = new Set<net.Socket>();

beforeAll(async () => {
	echo = net.createServer((s) => {
		serverSockets.add(s);
		s.on("close", () => serverSockets.delete(s));
		s.on("error", () => s.destroy());
		s.pipe(s);
	});
	await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
	echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy();
	await proxy.close();
});

afterAll(async () => {
	for (const s of serverSockets) s.destroy();
	await new Promise<void>((resolve) => echo.close(() => resolve()));
});

interface Conn {
	readonly socket: net.Socket;
	readonly received: () => string;
	readonly closed: () => boolean;
	readonly error: () => string | undefined;
}

async function open(): Promise<Conn> {
	const socket = net.connect(proxy.port, "127.0.0.1");
	clients.push(socket);
	let data = "";
	let closed = false;
	let error: string | undefined;
	socket.on("data", (d: Buffer) => {
		data += d.toString();
	});
	socket.on("close", () => {
		closed = true;
	});
	socket.on("error", (e: NodeJS.ErrnoException) => {
		error = e.code ?? e.message;
	});
	await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
	return {
		socket,
		received: () => data,
		closed: () => closed,
		error: () => error,
	};
}

describe("TcpProxy", () => {
	it("forwards both ways", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		const c = await open();
		c.socket.write("hello");
		await waitFor(() => c.received() === "hello", 2000, "echo");
		expect(proxy.connectionCount).toBe(1);
	});

	it("cut() closes open connections cleanly", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		const c = await open();
		await waitFor(() => proxy.connectionCount === 1, 2000, "connected");
		proxy.cut();
		await waitFor(() => c.closed(), 2000, "closed");
		expect(c.error()).toBeUndefined();
		// The proxy drops the pair at its own sockets' 'close', which may come after the client's.
		await waitFor(() => proxy.connectionCount === 0, 2000, "pair dropped");
	});

	it("reset() aborts open connections with RST", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		const c = await open();
		await waitFor(() => proxy.connectionCount === 1, 2000, "connected");
		proxy.reset();
		await waitFor(() => c.closed(), 2000, "closed");
		expect(c.error()).toBe("ECONNRESET");
	});

	it("stall() holds data back and resume() delivers it", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		const c = await open();
		proxy.stall();
		c.socket.write("held");
		await new Promise((resolve) => setTimeout(resolve, 150));
		expect(c.received()).toBe("");
		expect(c.closed()).toBe(false);
		proxy.resume();
		await waitFor(() => c.received() === "held", 2000, "delivered");
	});

	it("slow(ms) delays every chunk in each direction", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		const c = await open();
		proxy.slow(100);
		const started = Date.now();
		c.socket.write("x");
		await waitFor(() => c.received() === "x", 2000, "echo");
		expect(Date.now() - started).toBeGreaterThanOrEqual(190);
	});

	it("block() refuses new connections until unblock()", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: echoPort },
		});
		proxy.block();
		const blocked = await open();
		await waitFor(() => blocked.closed(), 2000, "refused");
		proxy.unblock();
		const c = await open();
		c.socket.write("ok");
		await waitFor(() => c.received() === "ok", 2000, "echo");
		expect(proxy.acceptedCount).toBe(2);
	});
});
