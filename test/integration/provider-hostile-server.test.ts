/**
 * FlagdProvider against a hostile server (test/support/hostile-http2-server.ts: a raw TCP server on 127.0.0.1 that
 * writes bad HTTP/2 frame by frame): PING flood, SETTINGS flood, a 10 MB header list, endless CONTINUATION,
 * connection-window overflow, a server that never reads, garbage after the preface. For gRPC and Connect over
 * HTTP/2 and Connect over HTTP/1.1, every evaluation and the initialization end within `deadlineMs` plus a
 * margin, the heap does not grow over repeated rounds, every connection is closed after `onClose()`, and the
 * process sees no uncaught exception (a session 'error' without a listener would end the user's process).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	HOSTILE_BEHAVIOURS,
	type HostileServer,
	startHostileServer,
} from "../support/hostile-http2-server.js";
import { quietLogger } from "../support/provider-test-helpers.js";
import { monitorSchedulingLag } from "../support/scheduling-lag.js";

const DEADLINE_MS = 250;
/**
 * How far past its deadline a call may end. The deadline is a timer; timers fire late by the time the event loop
 * spends on other work (here: parsing a flood chunk of up to 64 KB, jest). 3 s is over ten times the deadline and
 * still far below what an unbounded client does (an evaluation took 15.7 s with deadlineMs 500 against the PING
 * flood). On top of it comes the scheduling lag measured during the round (test/support/scheduling-lag.ts): on a
 * busy shared machine other processes keep this one off the CPU for seconds, which delays every timer alike.
 */
const MARGIN_MS = 3000;
const lag = monitorSchedulingLag();
/** The bound for the round in progress: deadline + margin + twice the worst timer delay seen in it. */
function boundMs(): number {
	return DEADLINE_MS + MARGIN_MS + 2 * lag.maxMs();
}
const ROUNDS = 3;
const CALLS_PER_ROUND = 8;
/** Heap growth allowed from the first to the last round (after GC): bounded, not tight (unbounded was 1 GB). */
const HEAP_GROWTH_LIMIT_BYTES = 32 * 1024 * 1024;
/** A context big enough (1 MB) that a server which never reads fills the socket buffers. */
const BIG_CONTEXT = { blob: "x".repeat(1024 * 1024) };

const TRANSPORTS: ReadonlyArray<{
	name: string;
	options: Pick<FlagdProviderOptions, "transport" | "httpVersion">;
}> = [
	{ name: "gRPC", options: { transport: "grpc" } },
	{
		name: "Connect HTTP/2",
		options: { transport: "connect", httpVersion: "2" },
	},
	{
		name: "Connect HTTP/1.1",
		options: { transport: "connect", httpVersion: "1.1" },
	},
];

/** A full GC without --expose-gc on the command line. */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => {
	uncaught.push(err);
};
let server: HostileServer | undefined;

beforeAll(() => {
	process.on("uncaughtException", onUncaught);
	process.on("unhandledRejection", onUncaught);
});

afterEach(async () => {
	await server?.close();
	server = undefined;
});

afterAll(() => {
	lag.stop();
	process.off("uncaughtException", onUncaught);
	process.off("unhandledRejection", onUncaught);
});

/** How long `promise` took to settle, in ms, and whether it was rejected. */
async function timed(
	promise: Promise<unknown>,
): Promise<{ ms: number; rejected: boolean }> {
	const started = performance.now();
	const rejected = await promise.then(
		() => false,
		() => true,
	);
	return { ms: performance.now() - started, rejected };
}

function heapAfterGc(): number {
	gc();
	return process.memoryUsage().heapUsed;
}

describe.each(TRANSPORTS)("$name against a hostile server", ({ options }) => {
	it.each(HOSTILE_BEHAVIOURS)(
		"%s: calls end in bounded time, memory stays bounded, nothing is left open or thrown",
		async (behaviour) => {
			const hostile = await startHostileServer(behaviour);
			server = hostile;
			const heapByRound: number[] = [];
			for (let round = 0; round < ROUNDS; round++) {
				const provider = new FlagdProvider({
					env: {},
					logger: quietLogger,
					host: "127.0.0.1",
					port: hostile.port,
					deadlineMs: DEADLINE_MS,
					retryBackoffMs: 50,
					retryBackoffMaxMs: 100,
					...options,
				});
				const context = behaviour === "never-reads" ? BIG_CONTEXT : {};
				lag.reset();
				const init = timed(provider.initialize());
				const calls = Array.from({ length: CALLS_PER_ROUND }, (_, i) =>
					timed(provider.resolveBooleanEvaluation(`flag-${i}`, false, context)),
				);
				const results = await Promise.all([init, ...calls]);
				// One more call after the first ones failed: the provider must have dialled anew or failed fast.
				const late = await timed(
					provider.resolveStringEvaluation("late", "d", context),
				);
				for (const r of [...results, late]) {
					expect(r.rejected).toBe(true);
					expect(r.ms).toBeLessThan(boundMs());
				}
				const closing = await timed(provider.onClose());
				expect(closing.ms).toBeLessThan(boundMs());
				// Every connection the provider made is closed (the server sees FIN or RST on each).
				await hostile.waitForNoConnections(boundMs());
				heapByRound.push(heapAfterGc());
			}
			expect(hostile.acceptedConnections).toBeGreaterThan(0);
			const growth =
				(heapByRound[ROUNDS - 1] as number) - (heapByRound[0] as number);
			expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
			expect(uncaught).toEqual([]);
		},
		// Three rounds of calls bounded by boundMs(), which grows with the machine's load; Jest's own limit only
		// catches a hang and must not fire first.
		300_000,
	);
});
