/**
 * Races and hangs of the provider's state machine that a real daemon cannot be made to produce on cue (a stream
 * that opens but never says provider_ready, ResolveAll answers arriving out of order). These use an in-memory
 * FlagdWebTransport (the provider's `transport` test seam); everything else runs against the real daemon in
 * test/integration/web-provider-*.test.ts.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import type { Logger } from "@openfeature/web-sdk";
import { waitFor } from "../../../test/support/wait-for.js";
import { FlagdWebError } from "./errors.js";
import { FlagdWebProvider } from "./flagd-web-provider.js";
import type {
	CallOptions,
	EventStreamMessage,
	FlagdWebTransport,
	JsonObject,
} from "./flagd-web-transport.js";

const quiet: Logger = {
	error: () => {},
	warn: () => {},
	info: () => {},
	debug: () => {},
};

interface PendingResolve {
	readonly context: JsonObject;
	readonly call: CallOptions;
	resolve(json: unknown): void;
}

/** A transport whose stream and ResolveAll answers the test releases by hand. */
class ManualTransport implements FlagdWebTransport {
	readonly resolves: PendingResolve[] = [];
	readonly streams: Array<{
		push(m: EventStreamMessage): void;
		fail(e: Error): void;
		signal: AbortSignal;
	}> = [];

	resolveAll(context: JsonObject, call: CallOptions): Promise<unknown> {
		return new Promise((resolve, reject) => {
			call.signal.addEventListener("abort", () => reject(call.signal.reason), {
				once: true,
			});
			this.resolves.push({ context, call, resolve });
		});
	}

	async *eventStream(call: CallOptions): AsyncGenerator<EventStreamMessage> {
		const queue: Array<EventStreamMessage | Error> = [];
		let wake: (() => void) | undefined;
		const push = (m: EventStreamMessage | Error): void => {
			queue.push(m);
			wake?.();
		};
		this.streams.push({ push, fail: push, signal: call.signal });
		call.signal.addEventListener(
			"abort",
			() => push(new FlagdWebError("aborted", "canceled")),
			{ once: true },
		);
		for (;;) {
			const next = queue.shift();
			if (next === undefined) {
				await new Promise<void>((resolve) => {
					wake = resolve;
				});
				continue;
			}
			if (next instanceof Error) throw next;
			yield next;
		}
	}
}

function flags(color: string): unknown {
	return {
		flags: { color: { reason: "STATIC", variant: color, stringValue: color } },
	};
}

const until = (condition: () => boolean, what: string): Promise<void> =>
	waitFor(condition, 5_000, what);

/** Initializes `p` and answers its first stream with provider_ready and its first ResolveAll with flags("a"). */
async function initialized(
	p: FlagdWebProvider,
	transport: ManualTransport,
	context: Record<string, string>,
): Promise<void> {
	const init = p.initialize(context);
	await until(() => transport.streams.length === 1, "stream");
	transport.streams[0]?.push({ type: "provider_ready", data: {} });
	await until(() => transport.resolves.length === 1, "first fetch");
	transport.resolves[0]?.resolve(flags("a"));
	await init;
}

const providers: FlagdWebProvider[] = [];
function create(
	transport: FlagdWebTransport,
	deadlineMs = 1_000,
): FlagdWebProvider {
	const p = new FlagdWebProvider({
		transport,
		deadlineMs,
		retryBackoffMs: 10,
		retryBackoffMaxMs: 20,
		logger: quiet,
	});
	providers.push(p);
	return p;
}

afterEach(async () => {
	for (const p of providers.splice(0)) await p.onClose();
});

describe("FlagdWebProvider state machine", () => {
	it("rejects initialize within deadlineMs when the stream opens but provider_ready never comes", async () => {
		const transport = new ManualTransport();
		const p = create(transport, 100);
		const started = Date.now();
		await expect(p.initialize({})).rejects.toThrow(/deadlineMs=100/);
		expect(Date.now() - started).toBeLessThan(600);
		expect(p.connectionState).toBe("error");
		// The hung attempt is abandoned and a new stream is opened.
		await until(() => transport.streams.length >= 2, "a reconnect");
		expect(transport.streams[0]?.signal.aborted).toBe(true);
	});

	it("never lets an older ResolveAll answer overwrite a newer context's flags", async () => {
		const transport = new ManualTransport();
		const p = create(transport);
		await initialized(p, transport, { user: "a" });

		const toB = p.onContextChange({ user: "a" }, { user: "b" });
		const toC = p.onContextChange({ user: "b" }, { user: "c" });
		await until(() => transport.resolves.length === 3, "two fetches");
		expect(transport.resolves.map((r) => r.context.user)).toEqual([
			"a",
			"b",
			"c",
		]);
		transport.resolves[2]?.resolve(flags("c"));
		await toC;
		transport.resolves[1]?.resolve(flags("b"));
		await toB;
		expect(p.resolveStringEvaluation("color", "x").value).toBe("c");
	});

	it("rejects a pending initialize on close and can be initialized again", async () => {
		const transport = new ManualTransport();
		const p = create(transport);
		const init = p.initialize({});
		await until(() => transport.streams.length === 1, "stream");
		await p.onClose();
		await expect(init).rejects.toThrow(/closed/);
		expect(transport.streams[0]?.signal.aborted).toBe(true);

		const again = p.initialize({});
		await until(() => transport.streams.length === 2, "second stream");
		transport.streams[1]?.push({ type: "provider_ready" });
		await until(() => transport.resolves.length === 1, "fetch");
		transport.resolves[0]?.resolve(flags("z"));
		await again;
		expect(p.resolveStringEvaluation("color", "x")).toMatchObject({
			value: "z",
			variant: "z",
			reason: "STATIC",
		});
	});

	it("re-fetches on configuration_change and emits CONFIGURATION_CHANGED with the keys flagd named", async () => {
		const transport = new ManualTransport();
		const p = create(transport);
		const seen: unknown[] = [];
		p.events.addHandler("PROVIDER_CONFIGURATION_CHANGED" as never, (d) =>
			seen.push(d),
		);
		await initialized(p, transport, {});
		transport.streams[0]?.push({ type: "keep_alive" });
		transport.streams[0]?.push({
			type: "configuration_change",
			data: { flags: { color: { type: "update" } } },
		});
		await until(() => transport.resolves.length === 2, "re-fetch");
		transport.resolves[1]?.resolve(flags("b"));
		await until(() => seen.length === 1, "event");
		expect(seen[0]).toMatchObject({ flagsChanged: ["color"] });
		expect(p.resolveStringEvaluation("color", "x").value).toBe("b");
	});
});

describe("FlagdWebProvider stream watchdog", () => {
	it("treats a stream that falls silent for streamIdleTimeoutMs as lost: STALE, reconnect, READY", async () => {
		const transport = new ManualTransport();
		const p = new FlagdWebProvider({
			transport,
			deadlineMs: 1_000,
			retryBackoffMs: 10,
			retryBackoffMaxMs: 20,
			streamIdleTimeoutMs: 100,
			logger: quiet,
		});
		providers.push(p);
		const events: string[] = [];
		for (const type of [
			"PROVIDER_STALE",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]) {
			p.events.addHandler(type as never, () => events.push(type));
		}
		await initialized(p, transport, {});
		// keep_alive keeps it alive past the timeout...
		for (let i = 0; i < 3; i++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			transport.streams[0]?.push({ type: "keep_alive" });
		}
		expect(p.connectionState).toBe("ready");
		// ...silence does not.
		await until(
			() => transport.streams.length === 2,
			"reconnect after silence",
		);
		expect(events).toEqual(["PROVIDER_STALE"]);
		transport.streams[1]?.push({ type: "provider_ready" });
		await until(() => transport.resolves.length === 2, "re-fetch");
		transport.resolves[1]?.resolve(flags("a"));
		await until(() => events.length === 3, "READY");
		expect(events).toEqual([
			"PROVIDER_STALE",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
	});
});

describe("FlagdWebProvider stream deadline", () => {
	it("re-opens the stream after streamDeadlineMs without going STALE, announcing only flags that changed", async () => {
		const transport = new ManualTransport();
		const p = new FlagdWebProvider({
			transport,
			deadlineMs: 1_000,
			streamDeadlineMs: 80,
			logger: quiet,
		});
		providers.push(p);
		const events: unknown[] = [];
		for (const type of [
			"PROVIDER_STALE",
			"PROVIDER_ERROR",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]) {
			p.events.addHandler(type as never, (d) =>
				events.push({
					type,
					flagsChanged: (d as { flagsChanged?: string[] })?.flagsChanged,
				}),
			);
		}
		await initialized(p, transport, {});

		await until(() => transport.streams.length === 2, "re-opened stream");
		expect(transport.streams[0]?.signal.aborted).toBe(true);
		transport.streams[1]?.push({ type: "provider_ready" });
		await until(() => transport.resolves.length === 2, "re-fetch");
		transport.resolves[1]?.resolve(flags("a"));
		await until(() => transport.streams.length === 3, "second re-open");
		transport.streams[2]?.push({ type: "provider_ready" });
		await until(() => transport.resolves.length === 3, "re-fetch");
		transport.resolves[2]?.resolve(flags("b"));
		await until(() => events.length === 1, "change event");
		expect(events).toEqual([
			{ type: "PROVIDER_CONFIGURATION_CHANGED", flagsChanged: ["color"] },
		]);
		expect(p.connectionState).toBe("ready");
	});
});
