import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { BodyDeadlines } from "./request-body-deadline.js";

/** A real h2c server whose requests get their body deadline from `deadlines`; it echoes how each request ended. */
async function serve(deadlines: BodyDeadlines): Promise<{
	server: http2.Http2Server;
	url: string;
}> {
	const server = http2.createServer((req, res) => {
		if ("stream" in req && !req.readableEnded) deadlines.watch(req);
		req.on("error", (e: Error) => {
			if (res.headersSent || res.destroyed) return;
			res.writeHead(504);
			res.end(e.message);
		});
		req.resume();
		req.on("end", () => res.end("ok"));
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		server,
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
	};
}

/** Opens a POST stream; `body` undefined leaves the body open. Resolves with status and body text. */
function post(
	client: http2.ClientHttp2Session,
	body: string | undefined,
): { stream: http2.ClientHttp2Stream; done: Promise<[number, string]> } {
	const stream = client.request({ ":method": "POST", ":path": "/" });
	if (body === undefined) stream.write("{");
	else stream.end(body);
	const done = new Promise<[number, string]>((resolve, reject) => {
		let status = 0;
		let text = "";
		stream.on("response", (h) => {
			status = Number(h[":status"]);
		});
		stream.setEncoding("utf8");
		stream.on("data", (chunk: string) => {
			text += chunk;
		});
		stream.on("end", () => resolve([status, text]));
		stream.on("error", reject);
	});
	return { stream, done };
}

describe("BodyDeadlines", () => {
	const closers: (() => void)[] = [];
	afterEach(() => {
		for (const close of closers.splice(0)) close();
	});

	async function start(timeoutMs: number) {
		const deadlines = new BodyDeadlines(timeoutMs);
		const { server, url } = await serve(deadlines);
		const client = http2.connect(url);
		closers.push(() => {
			client.destroy();
			server.close();
		});
		return { deadlines, client };
	}

	it("fails only the bodies that did not end in time, oldest first, and holds nothing once they are gone", async () => {
		const { deadlines, client } = await start(150);
		const quick = post(client, "{}");
		const slow1 = post(client, undefined);
		const slow2 = post(client, undefined);
		const late = post(client, undefined);
		await expect(quick.done).resolves.toEqual([200, "ok"]);
		// Finishes before its deadline: answered normally.
		late.stream.end("}");
		await expect(late.done).resolves.toEqual([200, "ok"]);
		for (const slow of [slow1, slow2])
			await expect(slow.done).resolves.toEqual([
				504,
				"[deadline_exceeded] request body not received within 150 ms",
			]);
		expect(deadlines.size).toBe(0);
	});

	it("keeps the finished requests behind a stalled body bounded", async () => {
		const { deadlines, client } = await start(60_000);
		const stalled = post(client, undefined);
		let peak = 0;
		for (let batch = 0; batch < 12; batch++) {
			const calls = Array.from({ length: 50 }, () => post(client, "{}").done);
			for (const answer of await Promise.all(calls))
				expect(answer).toEqual([200, "ok"]);
			peak = Math.max(peak, deadlines.size);
		}
		// 600 requests finished behind the stalled one; sweeps keep at most 256 (the first sweep length) held.
		expect(peak).toBeGreaterThan(1);
		expect(peak).toBeLessThanOrEqual(256);
		stalled.stream.close();
	});
});
