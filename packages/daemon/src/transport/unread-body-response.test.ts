import { readFileSync } from "node:fs";
import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../../../../test/support/tls-fixtures.js";
import {
	type ListenTarget,
	listenHttp1,
	listenMultiProtocol,
	type RunningListener,
} from "./http-listener.js";

/** `/unread` answers at once, leaving the body; `/read` reads it to its end first; anything else answers at once. */
function handler(
	req: http.IncomingMessage | http2.Http2ServerRequest,
	res: http.ServerResponse | http2.Http2ServerResponse,
): void {
	if (req.url === "/read") {
		let size = 0;
		req.on("data", (chunk: Buffer) => {
			size += chunk.length;
		});
		req.on("end", () => {
			const text = `read ${size}`;
			res.writeHead(200, { "content-length": String(text.length) });
			res.end(text);
		});
		return;
	}
	// No writeHead: the head Node writes itself from `end` goes through the same check.
	res.statusCode = req.url === "/unread" ? 404 : 200;
	res.end(req.url === "/unread" ? "not read" : "hello");
}

let fixtures: TlsFixtures | undefined;
function tlsFiles(): NonNullable<ListenTarget["tls"]> {
	fixtures ??= createTlsFixtures();
	return { certPath: fixtures.serverCertPath, keyPath: fixtures.serverKeyPath };
}

const running: RunningListener[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
	for (const socket of sockets.splice(0)) socket.destroy();
	await Promise.all(running.splice(0).map((l) => l.close(0)));
});
afterAll(() => fixtures?.remove());

type Listen = typeof listenHttp1;
const SHAPES: [string, Listen, boolean][] = [
	["the HTTP/1.1 listener (OFREP)", listenHttp1, false],
	["the HTTP/1.1 listener with TLS", listenHttp1, true],
	["the sniffing HTTP/1.1 + h2c listener", listenMultiProtocol, false],
	["the TLS listener with ALPN h2/http1.1", listenMultiProtocol, true],
];

/** One HTTP/1.1 response as read off the socket. */
interface RawResponse {
	readonly status: number;
	readonly headers: Record<string, string>;
	readonly body: string;
}

/** A raw HTTP/1.1 client connection that reads responses one at a time. */
class RawClient {
	#buffered = "";
	#waiting: (() => void) | undefined;
	#closed = false;
	readonly closed: Promise<void>;

	constructor(readonly socket: net.Socket) {
		socket.setEncoding("latin1");
		socket.on("data", (text: string) => {
			this.#buffered += text;
			this.#waiting?.();
		});
		socket.on("error", () => {});
		this.closed = new Promise((resolve) =>
			socket.once("close", () => {
				this.#closed = true;
				this.#waiting?.();
				resolve();
			}),
		);
	}

	async response(): Promise<RawResponse> {
		for (;;) {
			const parsed = this.#parse();
			if (parsed !== undefined) return parsed;
			if (this.#closed) throw new Error("closed before a whole response");
			await new Promise<void>((resolve) => {
				this.#waiting = resolve;
			});
			this.#waiting = undefined;
		}
	}

	#parse(): RawResponse | undefined {
		const end = this.#buffered.indexOf("\r\n\r\n");
		if (end < 0) return undefined;
		const [statusLine = "", ...lines] = this.#buffered
			.slice(0, end)
			.split("\r\n");
		const headers: Record<string, string> = {};
		for (const line of lines) {
			const colon = line.indexOf(":");
			headers[line.slice(0, colon).toLowerCase()] = line
				.slice(colon + 1)
				.trim();
		}
		const length = Number(headers["content-length"] ?? "0");
		if (this.#buffered.length < end + 4 + length) return undefined;
		const body = this.#buffered.slice(end + 4, end + 4 + length);
		this.#buffered = this.#buffered.slice(end + 4 + length);
		return { status: Number(statusLine.split(" ")[1]), headers, body };
	}
}

async function connect(listen: Listen, useTls: boolean): Promise<RawClient> {
	const listener = await listen(handler, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
		...(useTls ? { tls: tlsFiles() } : {}),
	});
	running.push(listener);
	const port = listener.port as number;
	const socket = useTls
		? tls.connect({
				port,
				host: "127.0.0.1",
				ca: readFileSync((fixtures as TlsFixtures).caCertPath),
				ALPNProtocols: ["http/1.1"],
			})
		: net.connect(port, "127.0.0.1");
	sockets.push(socket);
	await new Promise<void>((resolve, reject) => {
		socket.once(useTls ? "secureConnect" : "connect", () => resolve());
		socket.once("error", reject);
	});
	return new RawClient(socket);
}

const post = (path: string, declared: number, sent: string) =>
	`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n${sent}`;

describe.each(SHAPES)("on %s", (_name, listen, useTls) => {
	it("closes the connection, saying so, after answering a request whose body it left unread", async () => {
		const client = await connect(listen, useTls);
		// Half the declared body: whatever the timing, the answer comes before the end of it.
		client.socket.write(post("/unread", 10, "12345"));
		const answer = await client.response();
		expect(answer.status).toBe(404);
		expect(answer.headers.connection).toBe("close");
		await client.closed;
	});

	it("closes the connection after answering a chunked body it left unread", async () => {
		const client = await connect(listen, useTls);
		client.socket.write(
			"POST /unread HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n",
		);
		const answer = await client.response();
		expect(answer.headers.connection).toBe("close");
		await client.closed;
	});

	it("keeps the connection after answering requests without a body, or with one read to its end", async () => {
		const client = await connect(listen, useTls);
		client.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		const get = await client.response();
		expect(get).toMatchObject({ status: 200, body: "hello" });
		expect(get.headers.connection).toBe("keep-alive");

		client.socket.write(post("/", 0, ""));
		expect((await client.response()).headers.connection).toBe("keep-alive");

		client.socket.write(post("/read", 10, "12345"));
		client.socket.write("67890");
		const read = await client.response();
		expect(read).toMatchObject({ status: 200, body: "read 10" });
		expect(read.headers.connection).toBe("keep-alive");

		// And the connection still serves.
		client.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		expect((await client.response()).body).toBe("hello");
	});
});
