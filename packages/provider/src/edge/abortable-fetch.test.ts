/**
 * abortableFetch against a real HTTP server on 127.0.0.1 that sends one chunk and then holds the response open
 * (as the daemon's event stream does between messages): aborting ends the pending read at once and the server
 * sees the connection close; a response read to its end is unchanged.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { abortableFetch } from "./abortable-fetch.js";

let server: Server;
let baseUrl: string;
const closed: Promise<void>[] = [];

beforeAll(async () => {
	server = createServer((request, response) => {
		closed.push(
			new Promise((resolve) => request.socket.once("close", () => resolve())),
		);
		response.writeHead(200, { "content-type": "text/plain", "x-test": "1" });
		if (request.url === "/hold") response.write("first");
		else response.end("whole body");
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
});

describe("abortableFetch", () => {
	it("ends a pending body read when the call is aborted and releases the connection", async () => {
		const abort = new AbortController();
		const response = await abortableFetch(globalThis.fetch)(`${baseUrl}/hold`, {
			signal: abort.signal,
		});
		const reader = (response.body as ReadableStream<Uint8Array>).getReader();
		expect(new TextDecoder().decode((await reader.read()).value)).toBe("first");
		const pending = reader.read();
		abort.abort(new Error("closing"));
		await expect(pending).rejects.toThrow("closing");
		await closed[0];
	});

	it("passes status, headers and a complete body through", async () => {
		const response = await abortableFetch(globalThis.fetch)(`${baseUrl}/all`, {
			signal: new AbortController().signal,
		});
		expect(response.status).toBe(200);
		expect(response.headers.get("x-test")).toBe("1");
		expect(await response.text()).toBe("whole body");
	});
});
