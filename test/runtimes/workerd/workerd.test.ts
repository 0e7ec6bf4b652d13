/**
 * @flagd-ts/provider in Cloudflare's workerd (the runtime of Cloudflare Workers, run by miniflare), against the
 * real daemon on 127.0.0.1. The Workers are the examples of docs/runtimes/workerd.md (docs/examples/edge/),
 * bundled with esbuild for workerd's export conditions as wrangler does, plus a probe route that reports whether
 * the isolate allows code generation. Two set-ups, because a Worker's outbound streams live only as long as the
 * request that opened them:
 * - a plain Worker: RPC per evaluation with the cache disabled; a change shows on the next request;
 * - a Durable Object: the provider and its event stream outlive requests, so STATIC answers are cached and a
 *   change event drops them; the in-process resolver evaluates from the sync stream in the same object.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stop as stopEsbuild } from "esbuild";
import { Miniflare } from "miniflare";
import type { RunningDaemon } from "../../../packages/daemon/src/runtime/start-daemon.js";
import { pickFreePorts } from "../../conformance/free-ports.js";
import {
	MemorySource,
	startTestDaemon,
} from "../../integration/daemon-harness.js";
import { bundleForRuntime, type EdgeBundle } from "../support/edge-bundle.js";
import { expectPageShowsSamples } from "../support/edge-doc-page.js";
import {
	type DetailsJson,
	EDGE_FLAGS,
	EXPECTED_BY_TYPE,
} from "../support/edge-flags.js";
import { CODEGEN_PROBE_PATH } from "../support/edge-probe.js";
import {
	type EdgeFetch,
	expectChangeSeen,
	expectTargetingEvaluated,
	expectUnreachableAnswer,
	getJson,
} from "../support/edge-requests.js";
import {
	type ConsumerProject,
	stageConsumer,
} from "../support/stage-consumer.js";
import { workerdUnavailableReason } from "./workerd-available.js";

/** wrangler's conditions for a Worker bundle (workerd first, then the generic worker/browser builds). */
const WORKERD_CONDITIONS = ["workerd", "worker", "browser"] as const;
/** Not after the bundled workerd's own date (miniflare 4.20260730.0 ships workerd 2026-07-30). */
const COMPATIBILITY_DATE = "2026-07-01";
/** @openfeature/server-sdk imports node:events and async_hooks; workerd serves them under nodejs_compat. */
const COMPATIBILITY_FLAGS = ["nodejs_compat"];
/** Per-evaluation deadline given to the provider (FLAGD_DEADLINE_MS); the busy-CI margin comes on top. */
const DEADLINE_MS = 2_000;

it("docs/runtimes/workerd.md shows the examples this test runs, verbatim", () => {
	expectPageShowsSamples("runtimes/workerd.md", [
		"docs/examples/edge/worker.ts",
		"docs/examples/edge/evaluate-flag.ts",
		"docs/examples/edge/durable-object.ts",
	]);
});

const unavailable = workerdUnavailableReason();
const describeWorkerd = unavailable === undefined ? describe : describe.skip;

if (unavailable !== undefined) {
	it.skip(`SKIPPED: workerd cannot run here: ${unavailable}`, () => {});
}

async function bundleWorker(
	consumer: ConsumerProject,
	fixture: string,
): Promise<EdgeBundle> {
	return bundleForRuntime({
		consumer,
		entry: path.join(__dirname, "fixtures", fixture),
		conditions: WORKERD_CONDITIONS,
		format: "esm",
		// nodejs_compat modules stay imports; wrangler maps bare Node names to node: the same way.
		external: ["node:*"],
		alias: { async_hooks: "node:async_hooks", events: "node:events" },
	});
}

function startMiniflare(
	bundle: EdgeBundle,
	bindings: Record<string, string>,
	durableObjects?: Record<string, string>,
): Miniflare {
	return new Miniflare({
		modules: [{ type: "ESModule", path: "worker.mjs", contents: bundle.code }],
		compatibilityDate: COMPATIBILITY_DATE,
		compatibilityFlags: COMPATIBILITY_FLAGS,
		bindings,
		...(durableObjects === undefined ? {} : { durableObjects }),
	});
}

/** Requests to a Worker as the shared checks send them. */
function fetcher(mf: Miniflare): EdgeFetch {
	// miniflare's Response is undici's, which is the global Response's implementation in Node.
	return (pathAndQuery) =>
		mf.dispatchFetch(
			`http://worker.test${pathAndQuery}`,
		) as unknown as Promise<Response>;
}

/** The daemon's open sync streams (its `feature_flag_flagd_sync_active_streams` gauge, summed over labels). */
async function activeSyncStreams(managementPort: number): Promise<number> {
	const text = await (
		await fetch(`http://127.0.0.1:${managementPort}/metrics`)
	).text();
	let total = 0;
	for (const m of text.matchAll(
		/^feature_flag_flagd_sync_active_streams(?:\{[^}]*\})? (\S+)$/gm,
	))
		total += Number(m[1]);
	return total;
}

describeWorkerd("@flagd-ts/provider in workerd (miniflare)", () => {
	let consumer: ConsumerProject | undefined;
	let source: MemorySource;
	let daemon: RunningDaemon;
	let evaluationPort: number;
	let syncPort: number;
	let plainBundle: EdgeBundle;
	let objectBundle: EdgeBundle;
	const opened: Miniflare[] = [];

	function vars(port: number, extra: Record<string, string> = {}) {
		return {
			FLAGD_HOST: "127.0.0.1",
			FLAGD_PORT: String(port),
			FLAGD_DEADLINE_MS: String(DEADLINE_MS),
			...extra,
		};
	}

	beforeAll(async () => {
		source = new MemorySource("mem://edge", EDGE_FLAGS);
		daemon = await startTestDaemon([source]);
		await daemon.ready;
		evaluationPort = daemon.ports.evaluation ?? 0;
		syncPort = daemon.ports.sync ?? 0;
		consumer = await stageConsumer();
		[plainBundle, objectBundle] = await Promise.all([
			bundleWorker(consumer, "probe-worker.ts"),
			bundleWorker(consumer, "probe-durable-object.ts"),
		]);
	}, 120_000);

	afterAll(async () => {
		await Promise.all(opened.map((mf) => mf.dispose()));
		await daemon?.close();
		consumer?.remove();
		await stopEsbuild();
	}, 60_000);

	function open(mf: Miniflare): Miniflare {
		opened.push(mf);
		return mf;
	}

	it("the workerd export conditions bundle a provider build without node: imports", () => {
		const provider = plainBundle.resolutions.find(
			(r) => r.specifier === "@flagd-ts/provider",
		);
		expect(provider?.file).toBe("dist/esm/edge/index.js");
		// Only @openfeature/server-sdk (node:events, node:async_hooks under nodejs_compat) may need Node modules.
		const nodeImports = plainBundle.externals.filter(
			(e) => !e.importer.includes("node_modules/@openfeature/server-sdk/"),
		);
		expect(nodeImports).toEqual([]);
	});

	describe("a plain Worker (cache disabled)", () => {
		let mf: Miniflare;
		beforeAll(async () => {
			mf = open(startMiniflare(plainBundle, vars(evaluationPort)));
			await mf.ready;
		}, 60_000);

		it("runs in an isolate that forbids code generation", async () => {
			const probe = await getJson<{ codeGeneration: string; message?: string }>(
				fetcher(mf),
				CODEGEN_PROBE_PATH,
			);
			expect(probe.codeGeneration).toBe("blocked");
			expect(probe.message).toMatch(/Code generation from strings disallowed/);
		});

		it.each(EXPECTED_BY_TYPE)(
			"evaluates %s over RPC",
			async (query, value, variant) => {
				const details = await getJson<DetailsJson>(fetcher(mf), `/${query}`);
				expect(details).toMatchObject({ value, variant, reason: "STATIC" });
				expect(details.errorCode).toBeUndefined();
			},
		);

		it("evaluates targeting on the daemon", async () => {
			const details = await getJson<DetailsJson>(
				fetcher(mf),
				"/targeted-flag?type=string&user=vip-7",
			);
			expect(details).toMatchObject({
				value: "GOLD",
				variant: "gold",
				reason: "TARGETING_MATCH",
			});
		});

		it("answers every request from the daemon (never CACHED) and shows a change on the next request", async () => {
			const first = await getJson<DetailsJson>(
				fetcher(mf),
				"/string-flag?type=string",
			);
			const second = await getJson<DetailsJson>(
				fetcher(mf),
				"/string-flag?type=string",
			);
			expect([first.reason, second.reason]).toEqual(["STATIC", "STATIC"]);
			await expectChangeSeen(fetcher(mf), source);
		}, 90_000);
	});

	describe("a Durable Object holding the provider (event stream, cache on)", () => {
		let mf: Miniflare;
		beforeAll(async () => {
			mf = open(
				startMiniflare(objectBundle, vars(evaluationPort), {
					FLAGS: "FlagsObject",
				}),
			);
			await mf.ready;
		}, 60_000);

		it("runs in an isolate that forbids code generation", async () => {
			const probe = await getJson<{ codeGeneration: string }>(
				fetcher(mf),
				CODEGEN_PROBE_PATH,
			);
			expect(probe.codeGeneration).toBe("blocked");
		});

		it.each(EXPECTED_BY_TYPE)(
			"evaluates %s, then answers it from the cache",
			async (query, value, variant) => {
				await getJson<DetailsJson>(fetcher(mf), `/${query}`);
				const again = await getJson<DetailsJson>(fetcher(mf), `/${query}`);
				expect(again).toMatchObject({ value, variant, reason: "CACHED" });
			},
		);

		it("drops the cached answer when the event stream reports a change", async () => {
			await getJson<DetailsJson>(fetcher(mf), "/string-flag?type=string");
			const cached = await getJson<DetailsJson>(
				fetcher(mf),
				"/string-flag?type=string",
			);
			expect(cached).toMatchObject({ value: "#cc0000", reason: "CACHED" });
			// Only the change event can end this: without it the cached red answer would be served forever.
			await expectChangeSeen(fetcher(mf), source);
		}, 90_000);
	});

	describe("a Durable Object with the in-process resolver (sync stream)", () => {
		let mf: Miniflare;
		beforeAll(async () => {
			mf = open(
				startMiniflare(
					objectBundle,
					vars(syncPort, { FLAGD_RESOLVER: "in-process" }),
					{ FLAGS: "FlagsObject" },
				),
			);
			await mf.ready;
		}, 60_000);

		it.each(EXPECTED_BY_TYPE)(
			"evaluates %s locally",
			async (query, value, variant) => {
				const details = await getJson<DetailsJson>(fetcher(mf), `/${query}`);
				expect(details).toMatchObject({ value, variant, reason: "STATIC" });
			},
		);

		it("runs targeting rules with the interpreted evaluator (no code generation in workerd)", async () => {
			await expectTargetingEvaluated(fetcher(mf));
		});

		it("applies a change from the sync stream", async () => {
			await expectChangeSeen(fetcher(mf), source);
		}, 90_000);
	});

	it("ends a plain Worker's stream with the request that opened it (why the Worker example turns the cache off)", async () => {
		const before = await activeSyncStreams(daemon.ports.management);
		const mf = open(
			startMiniflare(
				plainBundle,
				vars(syncPort, { FLAGD_RESOLVER: "in-process" }),
			),
		);
		await mf.ready;
		// Answered from flags that came over the sync stream: the stream was open during this request ...
		const details = await getJson<DetailsJson>(
			fetcher(mf),
			"/bool-flag?type=boolean",
		);
		expect(details).toMatchObject({ value: true, reason: "STATIC" });
		// ... and workerd ends it once the response is done, although the provider never closed it.
		const deadline = Date.now() + 30_000;
		while ((await activeSyncStreams(daemon.ports.management)) > before) {
			if (Date.now() > deadline)
				throw new Error("the Worker's sync stream outlived its request");
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}, 60_000);

	it("answers 503 with a clear error within the deadline when the daemon is unreachable", async () => {
		const [closedPort = 0] = await pickFreePorts(1);
		const mf = open(startMiniflare(plainBundle, vars(closedPort)));
		await mf.ready;
		await expectUnreachableAnswer(fetcher(mf), DEADLINE_MS);
	}, 60_000);
});
