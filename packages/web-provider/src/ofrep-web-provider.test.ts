/**
 * OfrepWebProvider in Node against a small OFREP server on 127.0.0.1 (real fetch and sockets; ETag/304 as flagd
 * does it). Node 20 has neither EventSource nor localStorage: a hand-driven EventSource double (its events fired
 * by the test) and a Map-backed storage stand in for them here; test/browser/ofrep-mode.test.ts runs the same
 * provider in Chromium with the real ones against the real daemon.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
	afterAll,
	afterEach,
	beforeAll,
	beforeEach,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	ErrorCode,
	ProviderEvents,
	ProviderFatalError,
} from "@openfeature/web-sdk";
import type { KeyValueStorage } from "./ofrep-flag-store.js";
import { OfrepWebProvider } from "./ofrep-web-provider.js";
import type { OfrepWebProviderOptions } from "./ofrep-web-provider-options.js";

// ---- the server ----
let flags: Record<string, unknown>[] = [];
let failWith: number | undefined;
const requests: Array<{
	url: string;
	headers: IncomingMessage["headers"];
	context: unknown;
}> = [];
const server = createServer((req, res) => {
	const chunks: Buffer[] = [];
	req.on("data", (c: Buffer) => chunks.push(c));
	req.on("end", () => {
		const context = (
			JSON.parse(Buffer.concat(chunks).toString() || "{}") as {
				context?: unknown;
			}
		).context;
		requests.push({ url: req.url ?? "", headers: req.headers, context });
		if (failWith !== undefined) {
			res.writeHead(failWith, { "Content-Type": "application/json" });
			res.end("{}");
			return;
		}
		const tk = (context as { targetingKey?: string } | undefined)?.targetingKey;
		const body = JSON.stringify({
			flags: flags.map((f) =>
				f.key === "greeting" && tk === "vip" ? { ...f, value: "hello vip" } : f,
			),
			metadata: { flagSetId: "web" },
			eventStreams: [
				{
					type: "sse",
					endpoint: { requestUri: "/ofrep/v1/sse" },
					inactivityDelaySec: 60,
				},
			],
		});
		const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
		if (req.headers["if-none-match"] === etag) {
			res.writeHead(304, { ETag: etag });
			res.end();
			return;
		}
		res.writeHead(200, { "Content-Type": "application/json", ETag: etag });
		res.end(body);
	});
});
let baseUrl = "";

beforeAll(async () => {
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
	server.closeAllConnections();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

// ---- the EventSource double ----
class FakeEventSource extends EventTarget {
	static instances: FakeEventSource[] = [];
	readyState = 0;
	constructor(readonly url: string) {
		super();
		FakeEventSource.instances.push(this);
	}
	close(): void {
		this.readyState = 2;
	}
	fire(type: "open" | "error"): void {
		if (type === "open") this.readyState = 1;
		this.dispatchEvent(new Event(type));
	}
	message(data: unknown): void {
		this.dispatchEvent(
			new MessageEvent("message", { data: JSON.stringify(data) }),
		);
	}
}

function memoryStorage(): KeyValueStorage {
	const map = new Map<string, string>();
	return {
		getItem: (k) => map.get(k) ?? null,
		setItem: (k, v) => void map.set(k, v),
		removeItem: (k) => void map.delete(k),
	};
}

const providers: OfrepWebProvider[] = [];
function provider(
	options: Partial<OfrepWebProviderOptions> = {},
	storage: KeyValueStorage | undefined = undefined,
): OfrepWebProvider {
	const p = new OfrepWebProvider(
		{ baseUrl, ...options },
		{
			storage,
			EventSourceImpl: FakeEventSource as unknown as typeof EventSource,
		},
	);
	providers.push(p);
	return p;
}

/** The next `event` the provider emits, with its details. */
function next(
	p: OfrepWebProvider,
	event: ProviderEvents,
): Promise<{ flagsChanged?: string[]; message?: string }> {
	return new Promise((resolve) => {
		const handler = (details?: unknown) => {
			p.events.removeHandler(event, handler);
			resolve((details ?? {}) as { flagsChanged?: string[] });
		};
		p.events.addHandler(event, handler);
	});
}

function lastStream(): FakeEventSource {
	const s = FakeEventSource.instances.at(-1);
	if (s === undefined) throw new Error("no event stream opened");
	return s;
}

beforeEach(() => {
	flags = [
		{
			key: "enabled",
			value: true,
			variant: "on",
			reason: "STATIC",
			metadata: { flagSetId: "web", owner: { x: 1 } },
		},
		{ key: "greeting", value: "hi", variant: "hi", reason: "TARGETING_MATCH" },
		{ key: "limit", value: 10, variant: "ten", reason: "STATIC" },
		{ key: "config", value: { a: [1] }, variant: "v1", reason: "STATIC" },
		{ key: "off", reason: "DISABLED" },
		{ key: "broken", errorCode: "PARSE_ERROR", errorDetails: "bad rule" },
	];
	failWith = undefined;
	requests.length = 0;
	FakeEventSource.instances = [];
});
afterEach(async () => {
	for (const p of providers.splice(0)) await p.onClose();
});

describe("OfrepWebProvider options", () => {
	it("refuses unknown names, naming them, and bad values, naming the option", () => {
		expect(
			() => new OfrepWebProvider({ baseUrl, pollingInterval: 1 } as never),
		).toThrow(/unknown option "pollingInterval"/);
		expect(() => new OfrepWebProvider({} as never)).toThrow(
			/"baseUrl": required/,
		);
		expect(
			() => new OfrepWebProvider({ baseUrl, cacheMode: "memory" as never }),
		).toThrow(/"cacheMode"/);
		expect(() => new OfrepWebProvider({ baseUrl, timeoutMs: 0 })).toThrow(
			/"timeoutMs"/,
		);
		expect(
			() => new OfrepWebProvider({ baseUrl, headers: [["a"]] as never }),
		).toThrow(/"headers"/);
	});
});

describe("OfrepWebProvider", () => {
	it("evaluates every flag type from one bulk request and opens the advertised stream", async () => {
		const p = provider();
		await p.initialize({ targetingKey: "u1" });
		expect(requests).toHaveLength(1);
		expect(p.resolveBooleanEvaluation("enabled", false)).toEqual({
			value: true,
			variant: "on",
			reason: "STATIC",
			flagMetadata: { flagSetId: "web" },
		});
		expect(p.resolveStringEvaluation("greeting", "").value).toBe("hi");
		expect(p.resolveNumberEvaluation("limit", 0).value).toBe(10);
		expect(p.resolveObjectEvaluation("config", {}).value).toEqual({ a: [1] });
		expect(p.resolveStringEvaluation("off", "dflt")).toMatchObject({
			value: "dflt",
			reason: "DISABLED",
		});
		expect(p.resolveStringEvaluation("broken", "d")).toMatchObject({
			value: "d",
			errorCode: ErrorCode.PARSE_ERROR,
			errorMessage: "bad rule",
		});
		expect(p.resolveNumberEvaluation("greeting", 1).errorCode).toBe(
			ErrorCode.TYPE_MISMATCH,
		);
		expect(p.resolveBooleanEvaluation("__proto__", false).errorCode).toBe(
			ErrorCode.FLAG_NOT_FOUND,
		);
		expect(lastStream().url).toBe(`${baseUrl}/ofrep/v1/sse`);
	});

	it("re-fetches on refetchEvaluation with If-None-Match: a change emits CONFIGURATION_CHANGED with its keys, no change stays quiet", async () => {
		const p = provider();
		await p.initialize({});
		const stream = lastStream();
		stream.fire("open");
		flags[2] = { key: "limit", value: 20, variant: "twenty", reason: "STATIC" };
		const changed = next(p, ProviderEvents.ConfigurationChanged);
		stream.message({ type: "refetchEvaluation", etag: "abc", lastModified: 5 });
		expect((await changed).flagsChanged).toEqual(["limit"]);
		expect(p.resolveNumberEvaluation("limit", 0).value).toBe(20);
		expect(requests[1]?.url).toBe(
			"/ofrep/v1/evaluate/flags?flagConfigEtag=abc&flagConfigLastModified=5",
		);
		expect(requests[1]?.headers["if-none-match"]).toBeDefined();

		// Unchanged: a 304; an unknown event type and garbage are ignored.
		let emitted = 0;
		p.events.addHandler(ProviderEvents.ConfigurationChanged, () => emitted++);
		stream.dispatchEvent(new MessageEvent("message", { data: "not json" }));
		stream.message({ type: "somethingNew" });
		stream.message({ type: "refetchEvaluation" });
		await waitFor(() => requests.length === 3);
		// A follow-up request after the 304 would show here; the next event proves the queue is idle.
		flags[0] = { ...flags[0], value: false };
		const again = next(p, ProviderEvents.ConfigurationChanged);
		stream.message({ type: "refetchEvaluation" });
		expect((await again).flagsChanged).toEqual(["enabled"]);
		expect(emitted).toBe(1);
		expect(requests).toHaveLength(4);
	});

	it("is STALE while the stream is interrupted, READY and CONFIGURATION_CHANGED when it reconnects with news", async () => {
		const p = provider();
		await p.initialize({});
		const stream = lastStream();
		stream.fire("open");
		const stale = next(p, ProviderEvents.Stale);
		stream.fire("error");
		await stale;
		flags[1] = {
			key: "greeting",
			value: "hey",
			variant: "hey",
			reason: "STATIC",
		};
		const ready = next(p, ProviderEvents.Ready);
		const changed = next(p, ProviderEvents.ConfigurationChanged);
		stream.fire("open");
		await ready;
		expect((await changed).flagsChanged).toEqual(["greeting"]);
	});

	it("reports ERROR when STALE outlasts retryGracePeriod, and READY once a re-fetch succeeds", async () => {
		const p = provider({ retryGracePeriod: 0.2 });
		await p.initialize({});
		const stream = lastStream();
		const error = next(p, ProviderEvents.Error);
		failWith = 503;
		stream.fire("error"); // interrupted
		expect((await error).message).toMatch(/interrupted for 0.2 s/);
		failWith = undefined;
		const ready = next(p, ProviderEvents.Ready);
		stream.fire("open");
		await ready;
	});

	it("re-fetches and reconnects with backoff when the stream closes for good", async () => {
		const p = provider();
		await p.initialize({});
		const first = lastStream();
		const stale = next(p, ProviderEvents.Stale);
		const ready = next(p, ProviderEvents.Ready);
		first.close(); // e.g. a 503: the browser gives up on it
		first.fire("error");
		await stale;
		await ready; // after the first backoff delay (≤ 1 s)
		expect(FakeEventSource.instances.length).toBe(2);
		expect(lastStream().url).toBe(first.url);
	});

	it("re-evaluates with the new context on a context change", async () => {
		const p = provider();
		await p.initialize({ targetingKey: "u1" });
		await p.onContextChange({ targetingKey: "u1" }, { targetingKey: "vip" });
		expect(requests.at(-1)?.context).toEqual({ targetingKey: "vip" });
		expect(p.resolveStringEvaluation("greeting", "").value).toBe("hello vip");
	});

	it("serves persisted values first (reason CACHED) and confirms them with a 304", async () => {
		const storage = memoryStorage();
		await provider({}, storage).initialize({ targetingKey: "u1" });
		requests.length = 0;
		const p = provider({}, storage);
		// The refresh is started in initialize, answered after it returned.
		await p.initialize({ targetingKey: "u1" });
		expect(p.resolveStringEvaluation("greeting", "").reason).toBe("CACHED");
		await waitFor(
			() =>
				p.resolveStringEvaluation("greeting", "").reason === "TARGETING_MATCH",
		);
		expect(requests).toHaveLength(1);
		expect(requests[0]?.headers["if-none-match"]).toBeDefined();
	});

	it("network-first falls back to persisted values on a 5xx, never on 401", async () => {
		const storage = memoryStorage();
		await provider({}, storage).initialize({});
		failWith = 500;
		const p = provider({ cacheMode: "network-first" }, storage);
		await p.initialize({});
		expect(p.resolveNumberEvaluation("limit", 0)).toMatchObject({
			value: 10,
			reason: "CACHED",
		});
		failWith = 401;
		await expect(
			provider({ cacheMode: "network-first" }, storage).initialize({}),
		).rejects.toBeInstanceOf(ProviderFatalError);
		await expect(
			provider({ cacheMode: "disabled" }, storage).initialize({}),
		).rejects.toBeInstanceOf(ProviderFatalError);
	});

	it("keeps trying after a failed initialize: READY and CONFIGURATION_CHANGED once the server answers", async () => {
		failWith = 503;
		const p = provider();
		await expect(p.initialize({})).rejects.toThrow(/503/);
		const ready = next(p, ProviderEvents.Ready);
		const changed = next(p, ProviderEvents.ConfigurationChanged);
		failWith = undefined;
		await ready; // after the first backoff delay (≤ 1 s)
		expect((await changed).flagsChanged).toContain("limit");
		expect(p.resolveNumberEvaluation("limit", 0).value).toBe(10);
		expect(FakeEventSource.instances).toHaveLength(1);
	});

	it("with cacheMode disabled writes nothing", async () => {
		const writes: string[] = [];
		const storage = {
			...memoryStorage(),
			setItem: (k: string) => void writes.push(k),
		};
		await provider({ cacheMode: "disabled" }, storage).initialize({});
		expect(writes).toEqual([]);
	});
});

describe("OfrepWebProvider and page visibility", () => {
	// Node has no document: an EventTarget with a settable visibilityState stands in for it.
	const page = Object.assign(new EventTarget(), {
		visibilityState: "visible" as DocumentVisibilityState,
	});
	const show = (state: DocumentVisibilityState) => {
		page.visibilityState = state;
		page.dispatchEvent(new Event("visibilitychange"));
	};
	beforeAll(() => {
		Object.defineProperty(globalThis, "document", {
			value: page,
			configurable: true,
		});
	});
	afterAll(() => {
		Reflect.deleteProperty(globalThis, "document");
	});

	it("re-fetches (conditionally) when the page becomes visible, unless disabled", async () => {
		const p = provider();
		await p.initialize({});
		show("hidden");
		show("visible");
		await waitFor(() => requests.length === 2);
		expect(requests[1]?.headers["if-none-match"]).toBeDefined();
		await provider({
			disableVisibilityRefresh: true,
			changeDetection: "none",
		}).initialize({});
		requests.length = 0;
		await p.onClose();
		show("hidden");
		show("visible");
		// Neither the closed provider nor the opted-out one asks: the next request seen is this one.
		await provider({ changeDetection: "none" }).initialize({});
		expect(requests).toHaveLength(1);
	});

	it("closes the stream after inactivityDelaySec hidden and, when shown, reopens it and re-fetches unconditionally", async () => {
		const p = provider({
			inactivityDelaySec: 0.05,
			disableVisibilityRefresh: true,
		});
		await p.initialize({});
		const first = lastStream();
		show("hidden");
		await waitFor(() => first.readyState === 2);
		show("visible");
		await waitFor(() => requests.length === 2);
		expect(FakeEventSource.instances).toHaveLength(2);
		expect(lastStream().url).toBe(first.url);
		expect(requests[1]?.headers["if-none-match"]).toBeUndefined();
	});
});

/** Polls a condition that an in-flight request will make true (no fixed sleep). */
async function waitFor(
	condition: () => boolean,
	timeoutMs = 10_000,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await new Promise((r) => setTimeout(r, 10));
	}
}
