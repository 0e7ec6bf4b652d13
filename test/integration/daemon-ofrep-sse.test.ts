/**
 * OFREP change notifications through the whole daemon: the bulk response's advertisement, the advertised stream,
 * an event per change of the selected flag set, SSE-triggered re-fetches (`sseEtag`/`sseLastModified` and the
 * 0.4 provider's `flagConfigEtag`) answered 304 only through If-None-Match, CORS for the stream and its headers,
 * the connection limit, `--ofrep-sse-enabled=false`, `--ofrep-sse-public-url`, and shutdown ending the streams.
 * SSE is parsed with eventsource-parser.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

interface Stream {
	readonly status: number;
	readonly headers: http.IncomingHttpHeaders;
	readonly events: EventSourceMessage[];
	next(count: number): Promise<EventSourceMessage[]>;
	readonly ended: Promise<void>;
	close(): void;
}

const open: Stream[] = [];

function subscribe(
	url: string,
	headers: Record<string, string> = {},
): Promise<Stream> {
	return new Promise((resolve, reject) => {
		const req = http.get(url, { headers }, (res) => {
			let waiters: Array<() => void> = [];
			const events: EventSourceMessage[] = [];
			const parser = createParser({
				onEvent: (event) => {
					events.push(event);
					const wake = waiters;
					waiters = [];
					for (const w of wake) w();
				},
			});
			res.setEncoding("utf8");
			// The first bytes (an id line) arrive once the stream is subscribed.
			let first = true;
			const stream: Stream = {
				status: res.statusCode ?? 0,
				headers: res.headers,
				events,
				next: (count) =>
					new Promise((done) => {
						const check = () => {
							if (events.length >= count) done(events);
							else waiters.push(check);
						};
						check();
					}),
				ended: new Promise((done) => {
					res.on("end", done);
					res.on("error", () => done());
					res.on("close", done);
				}),
				close: () => req.destroy(),
			};
			open.push(stream);
			res.on("data", (chunk: string) => {
				parser.feed(chunk);
				if (first) {
					first = false;
					resolve(stream);
				}
			});
			if (res.statusCode !== 200) {
				res.resume();
				resolve(stream);
			}
		});
		req.on("error", reject);
	});
}

function doc(variant: string, extra: Record<string, unknown> = {}) {
	return {
		metadata: { flagSetId: "s1" },
		flags: {
			color: {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: variant,
				...extra,
			},
		},
	};
}

let daemon: RunningDaemon;
let sets: MemorySource;
let other: MemorySource;
let ofrep: string;

async function bulk(
	query = "",
	headers: Record<string, string> = {},
): Promise<{ status: number; etag: string | null; json: unknown }> {
	const res = await fetch(`${ofrep}/ofrep/v1/evaluate/flags${query}`, {
		method: "POST",
		headers: { "Flagd-Selector": "flagSetId=s1", ...headers },
	});
	const text = await res.text();
	return {
		status: res.status,
		etag: res.headers.get("etag"),
		json: text === "" ? undefined : JSON.parse(text),
	};
}

beforeAll(async () => {
	sets = new MemorySource("mem:sets", doc("red"));
	other = new MemorySource("mem:other", {
		metadata: { flagSetId: "s2" },
		flags: {
			elsewhere: { state: "ENABLED", variants: { a: 1 }, defaultVariant: "a" },
		},
	});
	daemon = await startTestDaemon([sets, other], {
		corsOrigins: ["http://app.example"],
		ofrepSseMaxConnections: 4,
	});
	await daemon.ready;
	ofrep = `http://127.0.0.1:${daemon.ports.ofrep}`;
});

afterAll(async () => {
	for (const s of open) s.close();
	await daemon.close();
});

describe("OFREP SSE through the daemon", () => {
	it("advertises the stream, sends an event per change of the selected set, and answers re-fetches", async () => {
		const first = await bulk();
		expect(first.status).toBe(200);
		const body = first.json as {
			refreshConnections: Array<{ url: string; inactivityDelaySec: number }>;
			eventStreams: Array<{ endpoint: { requestUri: string } }>;
		};
		const url = body.refreshConnections[0]?.url ?? "";
		expect(url).toBe(`${ofrep}/ofrep/v1/sse?selector=flagSetId%3Ds1`);
		expect(body.eventStreams[0]?.endpoint.requestUri).toBe(
			"/ofrep/v1/sse?selector=flagSetId%3Ds1",
		);
		const stream = await subscribe(url);
		expect(stream.headers["content-type"]).toBe(
			"text/event-stream; charset=utf-8",
		);

		// Another set changes first: no event for s1, so the first one it sees is its own change.
		other.push({
			metadata: { flagSetId: "s2" },
			flags: {
				elsewhere: {
					state: "ENABLED",
					variants: { a: 2 },
					defaultVariant: "a",
				},
			},
		});
		sets.push(doc("blue"));
		const [event] = await stream.next(1);
		const data = JSON.parse(event?.data ?? "") as {
			type: string;
			etag: string;
			lastModified: number;
		};
		expect(data.type).toBe("refetchEvaluation");
		expect(stream.events).toHaveLength(1);

		// The ADR's re-fetch and the 0.4 provider's: new flags for the old ETag.
		const trigger = `?sseEtag=${encodeURIComponent(data.etag)}&sseLastModified=${data.lastModified}`;
		const fresh = await bulk(trigger, { "If-None-Match": first.etag ?? "" });
		expect(fresh.status).toBe(200);
		expect(JSON.stringify(fresh.json)).toContain('"value":"blue"');
		const legacy = `?flagConfigEtag=${encodeURIComponent(data.etag)}&flagConfigLastModified=${data.lastModified}`;
		expect((await bulk(legacy)).status).toBe(200);
		// Trigger metadata alone never makes a 304; the client's own ETag does.
		expect((await bulk(trigger)).status).toBe(200);
		expect(
			(await bulk(trigger, { "If-None-Match": fresh.etag ?? "" })).status,
		).toBe(304);

		// A change that does not alter this caller's answer: an event, then 304.
		sets.push(doc("blue", { variants: { red: "red", blue: "blue", x: "x" } }));
		await stream.next(2);
		expect(
			(await bulk(legacy, { "If-None-Match": fresh.etag ?? "" })).status,
		).toBe(304);
		stream.close();
	});

	it("reads Go flagd's ?channels=<flagSetId> and the Flagd-Selector header", async () => {
		const channels = await subscribe(`${ofrep}/ofrep/v1/sse?channels=s1`);
		const header = await subscribe(`${ofrep}/ofrep/v1/sse`, {
			"Flagd-Selector": "flagSetId=s1",
		});
		sets.push(doc("red"));
		const [a] = await channels.next(1);
		const [b] = await header.next(1);
		expect(a?.id).toBe(b?.id);
		channels.close();
		header.close();
	});

	it("answers CORS preflights for the stream and exposes the bulk ETag", async () => {
		const preflight = await fetch(`${ofrep}/ofrep/v1/sse`, {
			method: "OPTIONS",
			headers: {
				Origin: "http://app.example",
				"Access-Control-Request-Method": "GET",
				"Access-Control-Request-Headers": "flagd-selector,last-event-id",
			},
		});
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("access-control-allow-origin")).toBe(
			"http://app.example",
		);
		expect(preflight.headers.get("access-control-allow-headers")).toBe(
			"flagd-selector,last-event-id",
		);
		const stream = await subscribe(`${ofrep}/ofrep/v1/sse`, {
			Origin: "http://app.example",
		});
		expect(stream.headers["access-control-allow-origin"]).toBe(
			"http://app.example",
		);
		stream.close();
		const res = await fetch(`${ofrep}/ofrep/v1/evaluate/flags`, {
			method: "POST",
			headers: { Origin: "http://app.example" },
		});
		await res.text();
		expect(res.headers.get("access-control-expose-headers")).toContain("ETag");
	});

	it("answers 503 beyond --ofrep-sse-max-connections and 405 for other methods", async () => {
		while (open.some((s) => s.status === 200)) {
			const s = open.pop();
			s?.close();
			await s?.ended;
		}
		const admitted = await Promise.all(
			[1, 2, 3, 4].map(() => subscribe(`${ofrep}/ofrep/v1/sse`)),
		);
		expect(admitted.map((s) => s.status)).toEqual([200, 200, 200, 200]);
		const refused = await fetch(`${ofrep}/ofrep/v1/sse`);
		expect(refused.status).toBe(503);
		expect(refused.headers.get("retry-after")).toBe("5");
		expect(await refused.text()).toBe(
			"too many OFREP event streams (limit 4); retry later\n",
		);
		const post = await fetch(`${ofrep}/ofrep/v1/sse`, { method: "POST" });
		expect(post.status).toBe(405);
		await post.text();
	});

	it("ends open streams when the daemon stops", async () => {
		const second = await startTestDaemon([
			new MemorySource("mem:x", doc("red")),
		]);
		await second.ready;
		const stream = await subscribe(
			`http://127.0.0.1:${second.ports.ofrep}/ofrep/v1/sse`,
		);
		await second.close();
		await stream.ended;
	});
});

describe("OFREP SSE options", () => {
	it("--ofrep-sse-enabled=false: no advertisement and no stream", async () => {
		const off = await startTestDaemon(
			[new MemorySource("mem:off", doc("red"))],
			{ ofrepSseEnabled: false },
		);
		try {
			await off.ready;
			const base = `http://127.0.0.1:${off.ports.ofrep}`;
			const res = await fetch(`${base}/ofrep/v1/evaluate/flags`, {
				method: "POST",
			});
			expect(Object.keys((await res.json()) as object)).toEqual([
				"flags",
				"metadata",
			]);
			const sse = await fetch(`${base}/ofrep/v1/sse`);
			expect(sse.status).toBe(404);
			await sse.text();
		} finally {
			await off.close();
		}
	});

	it("--ofrep-sse-inactivity-delay=0 leaves inactivityDelaySec out (keep the stream open)", async () => {
		const forever = await startTestDaemon(
			[new MemorySource("mem:forever", doc("red"))],
			{ ofrepSseInactivityDelaySec: 0 },
		);
		try {
			await forever.ready;
			const res = await fetch(
				`http://127.0.0.1:${forever.ports.ofrep}/ofrep/v1/evaluate/flags`,
				{ method: "POST" },
			);
			const body = (await res.json()) as {
				eventStreams: object[];
				refreshConnections: object[];
			};
			expect(body.eventStreams).toEqual([
				{ type: "sse", endpoint: { requestUri: "/ofrep/v1/sse" } },
			]);
			expect(body.refreshConnections).toEqual([
				{
					type: "sse",
					url: `http://127.0.0.1:${forever.ports.ofrep}/ofrep/v1/sse`,
				},
			]);
		} finally {
			await forever.close();
		}
	});

	it("--ofrep-sse-public-url and --ofrep-sse-inactivity-delay shape the advertisement", async () => {
		const proxied = await startTestDaemon(
			[new MemorySource("mem:pub", doc("red"))],
			{
				ofrepSsePublicUrl: "https://flags.example.com",
				ofrepSseInactivityDelaySec: 30,
			},
		);
		try {
			await proxied.ready;
			const res = await fetch(
				`http://127.0.0.1:${proxied.ports.ofrep}/ofrep/v1/evaluate/flags`,
				{ method: "POST" },
			);
			expect(await res.json()).toMatchObject({
				eventStreams: [
					{
						type: "sse",
						endpoint: {
							origin: "https://flags.example.com",
							requestUri: "/ofrep/v1/sse",
						},
						inactivityDelaySec: 30,
					},
				],
				refreshConnections: [
					{
						type: "sse",
						url: "https://flags.example.com/ofrep/v1/sse",
						inactivityDelaySec: 30,
					},
				],
			});
		} finally {
			await proxied.close();
		}
	});
});
