// The OFREP event stream over a real HTTP server on 127.0.0.1 and a real store: events per selector, one encoding
// for every subscriber, Last-Event-ID replay, the connection cap, slow clients and shutdown. SSE is parsed with
// eventsource-parser.
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { Logger } from "../../logging/logger.js";
import { FlagStore } from "../../store/flag-store.js";
import { parseSelector } from "../../store/selector.js";
import { OfrepEventStream } from "./ofrep-event-stream.js";

const silent: Logger = {
	debug: () => {},
	info: () => {},
	warn: () => {},
	error: () => {},
	child: () => silent,
};

function doc(flagSetId: string, variant: string): string {
	return JSON.stringify({
		metadata: { flagSetId },
		flags: {
			[`${flagSetId}-flag`]: {
				state: "ENABLED",
				variants: { a: "A", b: "B" },
				defaultVariant: variant,
			},
		},
	});
}

interface Opened {
	readonly status: number;
	readonly headers: http.IncomingHttpHeaders;
	readonly events: EventSourceMessage[];
	readonly comments: string[];
	/** Everything received, as text. */
	raw: string;
	ended: boolean;
	/** Resolves once `count` events have arrived. */
	events$(count: number): Promise<EventSourceMessage[]>;
	readonly body: Promise<string>;
	close(): void;
}

let store: FlagStore;
let shutdown: AbortController;
let stream: OfrepEventStream;
let server: http.Server;
let port: number;
const clients: Opened[] = [];

async function setUp(
	overrides: Partial<ConstructorParameters<typeof OfrepEventStream>[0]> = {},
): Promise<void> {
	store = new FlagStore({ sources: ["a", "b"], logger: silent });
	store.apply({ source: "a", content: doc("one", "a"), format: "json" });
	store.apply({ source: "b", content: doc("two", "a"), format: "json" });
	shutdown = new AbortController();
	stream = new OfrepEventStream({
		store,
		selector: (e) => parseSelector(e),
		inactivityDelaySec: 120,
		maxConnections: 0,
		shutdownSignal: shutdown.signal,
		...overrides,
	});
	server = http.createServer((req, res) => {
		const selector = new URL(req.url ?? "/", "http://x").searchParams.get(
			"selector",
		);
		stream.handle(req, res, selector ?? undefined);
	});
	await new Promise<void>((resolve) =>
		server.listen(0, "127.0.0.1", () => resolve()),
	);
	port = (server.address() as AddressInfo).port;
}

beforeEach(() => setUp());

afterEach(async () => {
	for (const client of clients.splice(0)) client.close();
	shutdown.abort();
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
});

function open(
	selector?: string,
	headers: Record<string, string> = {},
): Promise<Opened> {
	const path =
		selector === undefined
			? "/ofrep/v1/sse"
			: `/ofrep/v1/sse?selector=${encodeURIComponent(selector)}`;
	return new Promise((resolve, reject) => {
		const req = http.get({ host: "127.0.0.1", port, path, headers }, (res) => {
			let waiters: Array<() => void> = [];
			let resolveBody: (text: string) => void = () => {};
			const opened: Opened = {
				status: res.statusCode ?? 0,
				headers: res.headers,
				events: [],
				comments: [],
				raw: "",
				ended: false,
				events$: (count) =>
					new Promise((done) => {
						const check = () => {
							if (opened.events.length >= count) done(opened.events);
							else waiters.push(check);
						};
						check();
					}),
				body: new Promise((r) => {
					resolveBody = r;
				}),
				close: () => req.destroy(),
			};
			const parser = createParser({
				onEvent: (event) => {
					opened.events.push(event);
					const pending = waiters;
					waiters = [];
					for (const wake of pending) wake();
				},
				onComment: (comment) => opened.comments.push(comment),
			});
			res.setEncoding("utf8");
			res.on("data", (chunk: string) => {
				opened.raw += chunk;
				parser.feed(chunk);
			});
			res.on("end", () => {
				opened.ended = true;
				resolveBody(opened.raw);
			});
			res.on("error", () => resolveBody(opened.raw));
			clients.push(opened);
			resolve(opened);
		});
		req.on("error", reject);
	});
}

/** Opens a stream and waits until its first bytes (the id primer) arrived, so it is subscribed. */
async function subscribed(
	selector?: string,
	headers?: Record<string, string>,
): Promise<Opened> {
	const client = await open(selector, headers);
	while (client.raw === "") {
		await new Promise((resolve) => setImmediate(resolve));
	}
	return client;
}

describe("OfrepEventStream", () => {
	it("starts with an id line and no event, with SSE headers", async () => {
		const client = await subscribed("flagSetId=one");
		expect(client.status).toBe(200);
		expect(client.headers["content-type"]).toBe(
			"text/event-stream; charset=utf-8",
		);
		expect(client.headers["cache-control"]).toBe("no-cache, no-transform");
		expect(client.raw).toMatch(/^id: [\w-]+-0\n\n$/);
		expect(client.events).toEqual([]);
		expect(stream.connections).toBe(1);
	});

	it("sends one refetchEvaluation per change that touches the selector, and none for other sets", async () => {
		const one = await subscribed("flagSetId=one");
		const all = await subscribed();
		store.apply({ source: "b", content: doc("two", "b"), format: "json" });
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		const [event] = await one.events$(1);
		const allEvents = await all.events$(2);
		expect(one.events).toHaveLength(1);
		expect(event?.event).toBe("message");
		const data = JSON.parse(event?.data ?? "");
		expect(data).toEqual({
			type: "refetchEvaluation",
			etag: expect.stringMatching(/^[\w-]{27}$/),
			lastModified: expect.any(Number),
		});
		expect(Math.abs(data.lastModified - Date.now() / 1000)).toBeLessThan(60);
		// Every event has its own id, rising across channels; the all-flags channel saw both changes.
		const seqOf = (e: EventSourceMessage | undefined) =>
			Number(e?.id?.split("-").pop());
		expect(allEvents.map(seqOf)).toEqual([1, 3]);
		expect(seqOf(event)).toBe(2);
		// An identical payload is no change.
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		store.apply({ source: "a", content: doc("one", "a"), format: "json" });
		const [, second] = await one.events$(2);
		expect(JSON.parse(second?.data ?? "").etag).not.toBe(data.etag);
		expect(seqOf(second)).toBe(4);
		expect(seqOf((await all.events$(3))[2])).toBe(5);
	});

	it("writes the same bytes to every subscriber of a channel", async () => {
		const clientsOfOne = await Promise.all(
			[1, 2, 3].map(() => subscribed("flagSetId=one")),
		);
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		const received = await Promise.all(
			clientsOfOne.map(async (c) => (await c.events$(1))[0]),
		);
		expect(new Set(received.map((e) => JSON.stringify(e))).size).toBe(1);
	});

	it("replays missed events after Last-Event-ID and vouches for nothing it cannot replay", async () => {
		const stays = await subscribed("flagSetId=one");
		const leaves = await subscribed("flagSetId=one");
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		const [first] = await leaves.events$(1);
		leaves.close();
		while (stream.connections > 1) {
			await new Promise((resolve) => setImmediate(resolve));
		}
		store.apply({ source: "a", content: doc("one", "a"), format: "json" });
		store.apply({ source: "b", content: doc("two", "b"), format: "json" });
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		const seen = await stays.events$(3);
		const back = await subscribed("flagSetId=one", {
			"Last-Event-ID": first?.id ?? "",
		});
		const replayed = await back.events$(2);
		expect(replayed).toEqual(seen.slice(1));

		// Up to date: nothing is sent but a fresh id.
		const current = await subscribed("flagSetId=one", {
			"Last-Event-ID": seen[2]?.id ?? "",
		});
		expect(current.raw).toMatch(/^id: /);
		expect(current.events).toEqual([]);

		// An id from another daemon run (or garbage): one fresh event at once.
		for (const id of ["otherrun-1", "nonsense", `${first?.id}9999`]) {
			const stranger = await subscribed("flagSetId=one", {
				"Last-Event-ID": id,
			});
			const [fresh] = await stranger.events$(1);
			expect(JSON.parse(fresh?.data ?? "")).toEqual(
				JSON.parse(seen[2]?.data ?? ""),
			);
		}
	});

	it("sends a fresh event to a reconnecting client of a channel nobody followed meanwhile", async () => {
		const only = await subscribed("flagSetId=one");
		store.apply({ source: "a", content: doc("one", "b"), format: "json" });
		const [event] = await only.events$(1);
		only.close();
		while (stream.connections > 0) {
			await new Promise((resolve) => setImmediate(resolve));
		}
		// Unobserved change: no channel, so no event and no sequence number.
		store.apply({ source: "a", content: doc("one", "a"), format: "json" });
		const back = await subscribed("flagSetId=one", {
			"Last-Event-ID": event?.id ?? "",
		});
		const [fresh] = await back.events$(1);
		expect(JSON.parse(fresh?.data ?? "").etag).not.toBe(
			JSON.parse(event?.data ?? "").etag,
		);
	});

	it("answers 400 for an invalid selector", async () => {
		const client = await open("nope=1");
		expect(client.status).toBe(400);
		expect(await client.body).toContain("unknown selector key");
		expect(stream.connections).toBe(0);
	});

	it("sends keep-alive comments", async () => {
		await new Promise<void>((resolve) => server.close(() => resolve()));
		shutdown.abort();
		await setUp({ keepAliveMs: 10 });
		const client = await subscribed();
		while (client.comments.length < 2) {
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
		expect(client.comments[0]).toBe("keep-alive");
	});

	it("ends every stream on shutdown", async () => {
		const a = await subscribed();
		const b = await subscribed("flagSetId=two");
		shutdown.abort();
		await Promise.all([a.body, b.body]);
		expect(a.ended && b.ended).toBe(true);
		expect(stream.connections).toBe(0);
		const late = await open();
		expect(late.status).toBe(503);
		await late.body;
	});
});

describe("OfrepEventStream bounds", () => {
	it("answers 503 with Retry-After beyond the connection limit, and admits again once one closes", async () => {
		await new Promise<void>((resolve) => server.close(() => resolve()));
		shutdown.abort();
		await setUp({ maxConnections: 3 });
		const admitted = await Promise.all([1, 2, 3].map(() => subscribed()));
		const refused = await Promise.all(Array.from({ length: 20 }, () => open()));
		for (const r of refused) {
			expect(r.status).toBe(503);
			expect(r.headers["retry-after"]).toBe("5");
			expect(await r.body).toBe(
				"too many OFREP event streams (limit 3); retry later\n",
			);
		}
		expect(stream.connections).toBe(3);
		admitted[0]?.close();
		while (stream.connections > 2) {
			await new Promise((resolve) => setImmediate(resolve));
		}
		const next = await subscribed();
		expect(next.status).toBe(200);
	});

	it("disconnects a client that never reads once its unsent bytes pass the bound, and keeps serving the others", async () => {
		await new Promise<void>((resolve) => server.close(() => resolve()));
		shutdown.abort();
		await setUp({ maxBufferedBytes: 4096 });
		const reader = await subscribed();
		// A raw socket that sends the request and then never reads a byte.
		const stalled = net.connect(port, "127.0.0.1");
		await new Promise<void>((resolve) => stalled.once("connect", resolve));
		stalled.pause();
		stalled.write("GET /ofrep/v1/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
		const closed = new Promise<void>((resolve) =>
			stalled.once("close", () => resolve()),
		);
		stalled.on("error", () => {});
		while (stream.connections < 2) {
			await new Promise((resolve) => setImmediate(resolve));
		}
		let changes = 0;
		// Kernel socket buffers absorb the first megabytes; the bound applies to what Node holds beyond them.
		while (stream.connections > 1) {
			if (changes >= 200_000) throw new Error("slow client was never dropped");
			store.apply({
				source: "a",
				content: doc("one", changes % 2 === 0 ? "b" : "a"),
				format: "json",
			});
			changes++;
			// 10 events (~1.5 KB) per turn stay under the bound for a client that reads.
			if (changes % 10 === 0) {
				await new Promise((resolve) => setImmediate(resolve));
			}
		}
		// The server ended it; a paused socket only notices when it reads.
		stalled.resume();
		await closed;
		// The reading client got every event.
		await reader.events$(changes);
		expect(reader.events).toHaveLength(changes);
		stalled.destroy();
	}, 120_000);
});
