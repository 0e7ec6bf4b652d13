import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
import {
	listenHttp1,
	listenMultiProtocol,
	type RunningListener,
} from "./http-listener.js";

const hello = (
	_req: unknown,
	res: http.ServerResponse | http2.Http2ServerResponse,
) => {
	res.writeHead(200, { "content-type": "text/plain" });
	res.end("hello");
};

const running: RunningListener[] = [];
afterEach(async () => {
	await Promise.all(running.splice(0).map((l) => l.close(0)));
});

async function start(silentClientTimeoutMs?: number): Promise<RunningListener> {
	const listener = await listenMultiProtocol(hello, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
		...(silentClientTimeoutMs === undefined ? {} : { silentClientTimeoutMs }),
	});
	running.push(listener);
	return listener;
}

describe("listenMultiProtocol", () => {
	it("serves HTTP/1.1 and prior-knowledge h2c on the same port", async () => {
		const { port } = await start();
		const h1 = await fetch(`http://127.0.0.1:${port}/`);
		expect(await h1.text()).toBe("hello");
		const session = http2.connect(`http://127.0.0.1:${port}`);
		try {
			const body = await new Promise<string>((resolve, reject) => {
				const stream = session.request({ ":path": "/" });
				let text = "";
				stream.setEncoding("utf8");
				stream.on("data", (chunk: string) => {
					text += chunk;
				});
				stream.on("end", () => resolve(text));
				stream.on("error", reject);
			});
			expect(body).toBe("hello");
		} finally {
			session.destroy();
		}
	});

	it("drops a client that connects and sends nothing", async () => {
		const { port } = await start(100);
		const socket = net.connect(port ?? 0, "127.0.0.1");
		const started = Date.now();
		await new Promise<void>((resolve) => socket.once("close", () => resolve()));
		expect(Date.now() - started).toBeGreaterThanOrEqual(80);
	});

	it("closes with keep-alive and h2 clients still connected", async () => {
		const listener = await start();
		const agent = new http.Agent({ keepAlive: true });
		await new Promise<void>((resolve, reject) => {
			http
				.get({ host: "127.0.0.1", port: listener.port, agent }, (res) => {
					res.resume();
					res.on("end", () => resolve());
				})
				.on("error", reject);
		});
		const session = http2.connect(`http://127.0.0.1:${listener.port}`);
		await new Promise<void>((resolve) =>
			session.once("connect", () => resolve()),
		);
		const closed = new Promise<void>((resolve) =>
			session.once("close", () => resolve()),
		);
		await listener.close(200);
		await closed;
		agent.destroy();
		running.splice(0);
	});

	it("reports a port in use as LISTEN_FAILED", async () => {
		const first = await start();
		const failure = await listenHttp1(hello, {
			port: first.port ?? 0,
			host: "127.0.0.1",
			maxHeaderBytes: 0,
			name: "second",
		}).catch((e: unknown) => e);
		expect(isDaemonError(failure)).toBe(true);
		expect((failure as { code: string }).code).toBe("LISTEN_FAILED");
		expect((failure as Error).message).toMatch(
			/second listener cannot bind 127\.0\.0\.1:\d+/,
		);
	});
});
