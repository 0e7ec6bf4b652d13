/**
 * @flagd-ts/provider in Vercel's Edge Runtime as the `edge-runtime` package runs it locally (a V8 context with the
 * Edge Runtime's globals and `codeGeneration: { strings: false }`), against the real daemon on 127.0.0.1. The
 * function is docs/examples/edge/edge-function.ts bundled with esbuild for the `edge-light` conditions (as
 * Next.js does) into a classic script, plus a probe route that reports whether the context allows code generation.
 *
 * Vercel's runtime gives Edge Functions `process.env` and the built-in modules `node:events` and
 * `node:async_hooks` (which @openfeature/server-sdk imports). The edge-runtime package's bare VM has no module
 * loader, so the test hands the bundle Node's own two modules and the variables through `extend`, as Next.js's
 * edge sandbox does; nothing else is added to the context.
 */
import * as asyncHooks from "node:async_hooks";
import * as events from "node:events";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { EdgeRuntime } from "edge-runtime";
import { stop as stopEsbuild } from "esbuild";
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
	expectChangeSeen,
	expectTargetingEvaluated,
	expectUnreachableAnswer,
	getJson,
} from "../support/edge-requests.js";
import {
	type ConsumerProject,
	stageConsumer,
} from "../support/stage-consumer.js";

/** The conditions Next.js resolves with for the Edge Runtime. */
const EDGE_LIGHT_CONDITIONS = ["edge-light", "worker", "browser"] as const;
/** The Node modules Vercel's Edge Runtime provides that the bundle needs. */
const EDGE_NODE_MODULES: Readonly<Record<string, unknown>> = {
	"node:events": events,
	"node:async_hooks": asyncHooks,
};
const GLOBAL_NAME = "__flagdEdgeFunction";
const DEADLINE_MS = 2_000;

it("docs/runtimes/edge-runtime.md shows the example this test runs, verbatim", () => {
	expectPageShowsSamples("runtimes/edge-runtime.md", [
		"docs/examples/edge/edge-function.ts",
	]);
});

const unavailable = edgeRuntimeUnavailableReason();
const describeEdge = unavailable === undefined ? describe : describe.skip;
if (unavailable !== undefined) {
	it.skip(`SKIPPED: edge-runtime cannot run here: ${unavailable}`, () => {});
}

function edgeRuntimeUnavailableReason(): string | undefined {
	try {
		const probe = new EdgeRuntime();
		return typeof probe.dispatchFetch === "function"
			? undefined
			: "EdgeRuntime has no dispatchFetch";
	} catch (err: unknown) {
		return err instanceof Error ? err.message : String(err);
	}
}

interface EdgeFunction {
	readonly runtime: EdgeRuntime;
	fetch(pathAndQuery: string): Promise<Response>;
	close(): Promise<void>;
}

function startEdgeFunction(
	bundle: EdgeBundle,
	env: Record<string, string>,
): EdgeFunction {
	const runtime = new EdgeRuntime({
		extend: (context) => {
			Object.assign(context, {
				process: { env: { ...env } },
				require: (name: string) => {
					const provided = EDGE_NODE_MODULES[name];
					if (provided === undefined)
						throw new Error(`${name} is not a module of the Edge Runtime`);
					return provided;
				},
			});
			return context;
		},
		initialCode: `${bundle.code}
addEventListener("fetch", (event) => event.respondWith(${GLOBAL_NAME}.handle(event.request)));`,
	});
	return {
		runtime,
		fetch: async (pathAndQuery) => {
			const response = await runtime.dispatchFetch(
				`http://edge.test${pathAndQuery}`,
			);
			await response.waitUntil();
			return response;
		},
		close: () => runtime.evaluate<Promise<void>>(`${GLOBAL_NAME}.close()`),
	};
}

describeEdge("@flagd-ts/provider in Vercel's edge-runtime", () => {
	let consumer: ConsumerProject | undefined;
	let source: MemorySource;
	let daemon: RunningDaemon;
	let bundle: EdgeBundle;
	const opened: EdgeFunction[] = [];

	function start(port: number, extra: Record<string, string> = {}) {
		const fn = startEdgeFunction(bundle, {
			FLAGD_HOST: "127.0.0.1",
			FLAGD_PORT: String(port),
			FLAGD_DEADLINE_MS: String(DEADLINE_MS),
			...extra,
		});
		opened.push(fn);
		return fn;
	}

	beforeAll(async () => {
		source = new MemorySource("mem://edge", EDGE_FLAGS);
		daemon = await startTestDaemon([source]);
		await daemon.ready;
		consumer = await stageConsumer();
		bundle = await bundleForRuntime({
			consumer,
			entry: path.join(__dirname, "fixtures", "probe-edge-function.ts"),
			conditions: EDGE_LIGHT_CONDITIONS,
			format: "iife",
			globalName: GLOBAL_NAME,
			external: Object.keys(EDGE_NODE_MODULES),
			alias: { async_hooks: "node:async_hooks", events: "node:events" },
		});
	}, 120_000);

	afterAll(async () => {
		await Promise.all(opened.map((fn) => fn.close()));
		await daemon?.close();
		consumer?.remove();
		await stopEsbuild();
	}, 60_000);

	it("the edge-light export conditions bundle a provider build without node: imports", () => {
		expect(
			bundle.resolutions.find((r) => r.specifier === "@flagd-ts/provider")
				?.file,
		).toBe("dist/esm/edge/index.js");
		const nodeImports = bundle.externals.filter(
			(e) => !e.importer.includes("node_modules/@openfeature/server-sdk/"),
		);
		expect(nodeImports).toEqual([]);
	});

	describe("rpc (event stream, cache on)", () => {
		let fn: EdgeFunction;
		beforeAll(() => {
			fn = start(daemon.ports.evaluation ?? 0);
		});

		it("runs in a context that forbids code generation", async () => {
			const probe = await getJson<{ codeGeneration: string; message?: string }>(
				fn.fetch,
				CODEGEN_PROBE_PATH,
			);
			expect(probe.codeGeneration).toBe("blocked");
			expect(probe.message).toMatch(/Code generation from strings disallowed/);
		});

		it.each(EXPECTED_BY_TYPE)(
			"evaluates %s, then answers it from the cache",
			async (query, value, variant) => {
				const first = await getJson<DetailsJson>(fn.fetch, `/${query}`);
				expect(first).toMatchObject({ value, variant, reason: "STATIC" });
				const again = await getJson<DetailsJson>(fn.fetch, `/${query}`);
				expect(again).toMatchObject({ value, variant, reason: "CACHED" });
			},
		);

		it("evaluates targeting on the daemon", async () => {
			const details = await getJson<DetailsJson>(
				fn.fetch,
				"/targeted-flag?type=string&user=vip-7",
			);
			expect(details).toMatchObject({
				value: "GOLD",
				reason: "TARGETING_MATCH",
			});
		});

		it("drops the cached answer when the event stream reports a change", async () => {
			await getJson<DetailsJson>(fn.fetch, "/string-flag?type=string");
			const cached = await getJson<DetailsJson>(
				fn.fetch,
				"/string-flag?type=string",
			);
			expect(cached).toMatchObject({ value: "#cc0000", reason: "CACHED" });
			// Only the change event can end this: without it the cached red answer would be served forever.
			await expectChangeSeen(fn.fetch, source);
		}, 90_000);
	});

	describe("in-process (sync stream)", () => {
		let fn: EdgeFunction;
		beforeAll(() => {
			// The sync port serves only the sync service: an answer proves the flags were evaluated here.
			fn = start(daemon.ports.sync ?? 0, { FLAGD_RESOLVER: "in-process" });
		});

		it.each(EXPECTED_BY_TYPE)(
			"evaluates %s locally",
			async (query, value, variant) => {
				const details = await getJson<DetailsJson>(fn.fetch, `/${query}`);
				expect(details).toMatchObject({ value, variant, reason: "STATIC" });
			},
		);

		it("runs targeting rules with the interpreted evaluator (no code generation)", async () => {
			await expectTargetingEvaluated(fn.fetch);
		});

		it("applies a change from the sync stream", async () => {
			await expectChangeSeen(fn.fetch, source);
		}, 90_000);
	});

	it("answers 503 with a clear error within the deadline when the daemon is unreachable", async () => {
		const [closedPort = 0] = await pickFreePorts(1);
		await expectUnreachableAnswer(start(closedPort).fetch, DEADLINE_MS);
	}, 60_000);
});
