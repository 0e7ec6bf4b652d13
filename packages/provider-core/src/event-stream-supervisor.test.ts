import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "@jest/globals";
import type { Logger } from "@openfeature/core";
import {
	EventStreamSupervisor,
	type EventStreamSupervisorOptions,
	type StreamMessage,
	type SupervisorEventDetails,
	type SupervisorEventName,
} from "./event-stream-supervisor.js";
import { ResultCache } from "./result-cache.js";

// These are unit tests of the state machine alone, so the stream is a scripted in-memory iterable (no peer is
// needed to decide what state follows which stream outcome). The real client and server paths are covered by
// test/integration/provider-*.test.ts.

/** One scripted EventStream call. */
class ScriptedStream implements AsyncIterable<StreamMessage> {
	private readonly queue: Array<
		StreamMessage | { end: true } | { error: unknown }
	> = [];
	private wake: (() => void) | undefined;
	aborted = false;

	constructor(signal: AbortSignal) {
		signal.addEventListener("abort", () => {
			this.aborted = true;
			this.wake?.();
		});
	}

	push(m: StreamMessage): void {
		this.queue.push(m);
		this.wake?.();
	}
	end(): void {
		this.queue.push({ end: true });
		this.wake?.();
	}
	fail(error: unknown): void {
		this.queue.push({ error });
		this.wake?.();
	}

	async *[Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
		for (;;) {
			if (this.aborted) throw new ConnectError("aborted", Code.Canceled);
			const next = this.queue.shift();
			if (next === undefined) {
				await new Promise<void>((r) => {
					this.wake = r;
				});
				continue;
			}
			if ("end" in next) return;
			if ("error" in next) throw next.error;
			yield next;
		}
	}
}

const quietLogger: Logger = {
	error: () => {},
	warn: () => {},
	info: () => {},
	debug: () => {},
};

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
	const start = Date.now();
	while (!cond()) {
		if (Date.now() - start > timeoutMs)
			throw new Error("condition not met in time");
		await new Promise((r) => setTimeout(r, 5));
	}
}

function harness(overrides: Partial<EventStreamSupervisorOptions> = {}) {
	const streams: ScriptedStream[] = [];
	const events: Array<[SupervisorEventName, SupervisorEventDetails]> = [];
	const cache = new ResultCache({ maxSize: 10, enabled: true });
	const counters = { resets: 0 };
	const supervisor = new EventStreamSupervisor({
		openStream: (signal) => {
			const s = new ScriptedStream(signal);
			streams.push(s);
			return s;
		},
		deadlineMs: 200,
		streamDeadlineMs: 0,
		retryBackoffMs: 10,
		retryBackoffMaxMs: 20,
		retryGracePeriodMs: 150,
		fatalCodes: new Set([Code.PermissionDenied]),
		cache,
		handlers: {
			emit: (e, d) => events.push([e, d]),
			resetConnection: () => {
				counters.resets += 1;
			},
		},
		logger: quietLogger,
		...overrides,
	});
	const latest = (): ScriptedStream => {
		const s = streams.at(-1);
		if (!s) throw new Error("no stream opened");
		return s;
	};
	return {
		supervisor,
		streams,
		events,
		cache,
		latest,
		counters,
		names: () => events.map((e) => e[0]),
	};
}

/** Starts the supervisor and answers its first stream with provider_ready; resolves once start() has. */
async function connected(h: ReturnType<typeof harness>): Promise<void> {
	const init = h.supervisor.start();
	await until(() => h.streams.length === 1);
	h.latest().push({ type: "provider_ready" });
	await init;
}

describe("EventStreamSupervisor", () => {
	it("resolves start() on provider_ready without emitting (the SDK emits READY)", async () => {
		const h = harness();
		await connected(h);
		expect(h.supervisor.state).toBe("ready");
		expect(h.events).toEqual([]);
		expect(h.cache.currentMode).toBe("read-write");
		await h.supervisor.close();
		expect(h.latest().aborted).toBe(true);
	});

	it("goes STALE on loss, ERROR after the grace period, then READY and CONFIGURATION_CHANGED on reconnect", async () => {
		const h = harness();
		await connected(h);
		h.latest().fail(new ConnectError("gone", Code.Unavailable));
		await until(() => h.supervisor.state === "stale");
		expect(h.cache.currentMode).toBe("read-only");
		await until(() => h.supervisor.state === "error");
		expect(h.cache.currentMode).toBe("off");
		await until(() => h.streams.length >= 2);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.supervisor.state === "ready");
		expect(h.names()).toEqual([
			"PROVIDER_STALE",
			"PROVIDER_ERROR",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
		expect(h.events[1]?.[1].errorCode).toBe("GENERAL");
		await h.supervisor.close();
	});

	it("treats a stream that ends cleanly as a loss and reconnects", async () => {
		const h = harness({ retryGracePeriodMs: 5000 });
		await connected(h);
		h.latest().end();
		await until(() => h.supervisor.state === "stale");
		await until(() => h.streams.length === 2);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.supervisor.state === "ready");
		expect(h.names()).toEqual([
			"PROVIDER_STALE",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
		await h.supervisor.close();
	});

	it("rejects start() after deadlineMs without a connection, keeps retrying and emits READY later", async () => {
		const h = harness({ deadlineMs: 50 });
		const started = Date.now();
		await expect(h.supervisor.start()).rejects.toThrow(
			/no connection within deadlineMs=50/,
		);
		expect(Date.now() - started).toBeLessThan(1000);
		expect(h.supervisor.state).toBe("error");
		await until(() => h.streams.length >= 2);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.supervisor.state === "ready");
		expect(h.names()).toEqual(["PROVIDER_READY"]);
		await h.supervisor.close();
	});

	it("becomes FATAL on a configured status before the first connection and stops retrying", async () => {
		const h = harness();
		const init = h.supervisor.start();
		await until(() => h.streams.length === 1);
		h.latest().fail(new ConnectError("no", Code.PermissionDenied));
		await expect(init).rejects.toMatchObject({ code: "PROVIDER_FATAL" });
		expect(h.supervisor.state).toBe("fatal");
		await new Promise((r) => setTimeout(r, 100));
		expect(h.streams.length).toBe(1);
		await h.supervisor.close();
	});

	it("emits ERROR with PROVIDER_FATAL when the fatal status comes after a failed initialization", async () => {
		const h = harness({ deadlineMs: 40 });
		const init = h.supervisor.start();
		await expect(init).rejects.toThrow();
		await until(() => h.streams.length >= 2);
		h.latest().fail(new ConnectError("no", Code.PermissionDenied));
		await until(() => h.supervisor.state === "fatal");
		expect(h.events.at(-1)).toEqual([
			"PROVIDER_ERROR",
			expect.objectContaining({ errorCode: "PROVIDER_FATAL" }),
		]);
		await h.supervisor.close();
	});

	it("does not treat fatal codes as fatal after the first connection", async () => {
		const h = harness({ retryGracePeriodMs: 5000 });
		await connected(h);
		h.latest().fail(new ConnectError("no", Code.PermissionDenied));
		await until(() => h.supervisor.state === "stale");
		await until(() => h.streams.length === 2);
		await h.supervisor.close();
	});

	it("invalidates changed keys and emits CONFIGURATION_CHANGED with flagsChanged", async () => {
		const h = harness();
		await connected(h);
		h.cache.set(
			"boolean",
			"a",
			{ value: true, reason: "STATIC" },
			h.cache.generation,
		);
		h.cache.set(
			"boolean",
			"b",
			{ value: true, reason: "STATIC" },
			h.cache.generation,
		);
		h.latest().push({
			type: "configuration_change",
			data: { flags: { a: { type: "update" }, c: { type: "write" } } },
		});
		await until(() => h.events.length === 1);
		expect(h.events[0]).toEqual([
			"PROVIDER_CONFIGURATION_CHANGED",
			{ flagsChanged: ["a", "c"] },
		]);
		expect(h.cache.get("boolean", "a")).toBeUndefined();
		expect(h.cache.get("boolean", "b")?.reason).toBe("CACHED");
		await h.supervisor.close();
	});

	it("purges the cache on every reconnect", async () => {
		const h = harness({ retryGracePeriodMs: 5000 });
		await connected(h);
		h.cache.set(
			"boolean",
			"a",
			{ value: true, reason: "STATIC" },
			h.cache.generation,
		);
		h.latest().end();
		await until(() => h.supervisor.state === "stale");
		expect(h.cache.get("boolean", "a")?.reason).toBe("CACHED");
		await until(() => h.streams.length === 2);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.supervisor.state === "ready");
		expect(h.cache.get("boolean", "a")).toBeUndefined();
		await h.supervisor.close();
	});

	it("re-opens the stream at streamDeadlineMs without STALE, emitting CONFIGURATION_CHANGED", async () => {
		const h = harness({ streamDeadlineMs: 60 });
		await connected(h);
		await until(() => h.streams.length === 2);
		expect(h.streams[0]?.aborted).toBe(true);
		expect(h.supervisor.state).toBe("ready");
		h.latest().push({ type: "provider_ready" });
		await until(() => h.events.length === 1);
		expect(h.names()).toEqual(["PROVIDER_CONFIGURATION_CHANGED"]);
		await h.supervisor.close();
	});

	it("gives up an attempt that never sends provider_ready after deadlineMs and resets the connection", async () => {
		const h = harness({ deadlineMs: 50 });
		const init = h.supervisor.start();
		await expect(init).rejects.toThrow();
		await until(() => h.streams.length >= 2);
		expect(h.streams[0]?.aborted).toBe(true);
		expect(h.counters.resets).toBeGreaterThanOrEqual(1);
		await h.supervisor.close();
	});

	it("does not reset the connection when the server answers with an error", async () => {
		const h = harness();
		const init = h.supervisor.start();
		await until(() => h.streams.length === 1);
		h.latest().fail(new ConnectError("later", Code.Unavailable));
		await until(() => h.streams.length === 2);
		h.latest().push({ type: "provider_ready" });
		await init;
		expect(h.counters.resets).toBe(0);
		await h.supervisor.close();
	});

	it("close() during initialization rejects start() and leaves nothing running", async () => {
		const h = harness({ deadlineMs: 10_000 });
		const init = h.supervisor.start();
		await until(() => h.streams.length === 1);
		await h.supervisor.close();
		await expect(init).rejects.toThrow(/closed/);
		expect(h.latest().aborted).toBe(true);
		await new Promise((r) => setTimeout(r, 50));
		expect(h.streams.length).toBe(1);
		await h.supervisor.close();
	});

	it("counts as connected only once synchronize resolves, and announces the keys it reports on reconnect", async () => {
		const pending: Array<(keys: string[]) => void> = [];
		const synchronizing = harness({
			retryGracePeriodMs: 5000,
			handlers: {
				emit: (e, d) => synchronizing.events.push([e, d]),
				synchronize: () =>
					new Promise<string[]>((resolve) => pending.push(resolve)),
			},
		});
		const init = synchronizing.supervisor.start();
		await until(() => synchronizing.streams.length === 1);
		synchronizing.latest().push({ type: "provider_ready" });
		await until(() => pending.length === 1);
		expect(synchronizing.supervisor.state).toBe("connecting");
		pending[0]?.(["a"]);
		await init;
		expect(synchronizing.supervisor.state).toBe("ready");
		synchronizing.latest().end();
		await until(() => synchronizing.streams.length === 2);
		synchronizing.latest().push({ type: "provider_ready" });
		await until(() => pending.length === 2);
		pending[1]?.(["b", "c"]);
		await until(() => synchronizing.events.length === 3);
		expect(synchronizing.events).toEqual([
			["PROVIDER_STALE", expect.anything()],
			["PROVIDER_READY", expect.anything()],
			[
				"PROVIDER_CONFIGURATION_CHANGED",
				{ message: "reconnected to flagd", flagsChanged: ["b", "c"] },
			],
		]);
		await synchronizing.supervisor.close();
	});

	it("fails the attempt when synchronize rejects, and retries", async () => {
		let calls = 0;
		const h = harness({
			handlers: {
				emit: () => {},
				synchronize: async () => {
					calls += 1;
					if (calls === 1)
						throw new ConnectError("fetch failed", Code.Unavailable);
					return [];
				},
			},
		});
		const init = h.supervisor.start();
		await until(() => h.streams.length === 1);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.streams.length === 2);
		expect(h.streams[0]?.aborted).toBe(true);
		h.latest().push({ type: "provider_ready" });
		await init;
		expect(calls).toBe(2);
		await h.supervisor.close();
	});

	it("awaits configurationChanged before announcing the change", async () => {
		const order: string[] = [];
		const h = harness({
			handlers: {
				emit: (e) => order.push(e),
				configurationChanged: async (keys) => {
					await new Promise((r) => setTimeout(r, 20));
					order.push(`refreshed ${keys.join(",")}`);
				},
			},
		});
		await connected(h);
		h.latest().push({
			type: "configuration_change",
			data: { flags: { x: {} } },
		});
		await until(() => order.length === 2);
		expect(order).toEqual(["refreshed x", "PROVIDER_CONFIGURATION_CHANGED"]);
		await h.supervisor.close();
	});

	it("counts a stream silent for streamIdleTimeoutMs as lost; keep_alive keeps it open", async () => {
		const h = harness({ streamIdleTimeoutMs: 80, retryGracePeriodMs: 5000 });
		await connected(h);
		for (let i = 0; i < 3; i++) {
			await new Promise((r) => setTimeout(r, 40));
			h.latest().push({ type: "keep_alive" });
		}
		expect(h.streams.length).toBe(1);
		await until(() => h.supervisor.state === "stale");
		await until(() => h.streams.length === 2);
		await h.supervisor.close();
	});

	it("reconnect() drops the stream and becomes error without an event; the next connection emits READY", async () => {
		const h = harness({ retryGracePeriodMs: 5000 });
		await connected(h);
		h.supervisor.reconnect(new ConnectError("bad data", Code.Internal));
		expect(h.supervisor.state).toBe("error");
		await until(() => h.streams.length === 2);
		expect(h.streams[0]?.aborted).toBe(true);
		expect(h.events).toEqual([]);
		h.latest().push({ type: "provider_ready" });
		await until(() => h.supervisor.state === "ready");
		expect(h.names()).toEqual([
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
		await h.supervisor.close();
	});
});
