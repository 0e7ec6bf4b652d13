/**
 * Trace context from the Node provider to the daemon: an application span (a real BasicTracerProvider with the
 * AsyncLocalStorage context manager, registered globally as an application would) around an OpenFeature
 * evaluation yields a daemon span (exported to a fake OTLP/HTTP collector) in the same trace with the application
 * span as parent, over both transports. Also: `tracePropagation: false`, no active span, and the TracingHook's
 * span events.
 */
import {
	FlagdProvider,
	type FlagdProviderOptions,
	TracingHook,
} from "@flagd-ts/provider";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import { OpenFeature } from "@openfeature/server-sdk";
import { context, propagation, type Span, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
	BasicTracerProvider,
	InMemorySpanExporter,
	SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { FakeOtlpCollector } from "../support/fake-otlp-collector.js";
import {
	INIT_DEADLINE_MS,
	quietLogger,
} from "../support/provider-test-helpers.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

const appSpans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
	spanProcessors: [new SimpleSpanProcessor(appSpans)],
});
const tracer = tracerProvider.getTracer("checkout-service");

let collector: FakeOtlpCollector;
let daemon: RunningDaemon;
const providers: FlagdProvider[] = [];
let domains = 0;

beforeAll(async () => {
	trace.setGlobalTracerProvider(tracerProvider);
	context.setGlobalContextManager(
		new AsyncLocalStorageContextManager().enable(),
	);
	collector = await FakeOtlpCollector.start();
	daemon = await startTestDaemon(
		[new MemorySource("mem://flags", BASIC_FLAGS)],
		{ otelCollectorUri: collector.url },
		// Export span batches every 20 ms so each test sees its daemon span quickly.
		{ env: { OTEL_BSP_SCHEDULE_DELAY: "20" } },
	);
	await daemon.ready;
});

afterEach(async () => {
	await Promise.all(providers.splice(0).map((p) => p.onClose()));
	propagation.disable();
	OpenFeature.clearHooks();
	appSpans.reset();
});

afterAll(async () => {
	await daemon.close();
	await collector.close();
	await OpenFeature.close();
	trace.disable();
	context.disable();
	await tracerProvider.shutdown();
});

async function clientFor(options: FlagdProviderOptions) {
	const provider = new FlagdProvider({
		env: {},
		logger: quietLogger,
		host: "127.0.0.1",
		port: daemon.ports.evaluation,
		deadlineMs: INIT_DEADLINE_MS,
		cache: "disabled",
		...options,
	});
	providers.push(provider);
	const domain = `trace-${domains++}`;
	await OpenFeature.setProviderAndWait(domain, provider);
	return OpenFeature.getClient(domain);
}

/** Evaluates `flagKey` inside an active application span; returns that span. */
async function evaluateInSpan(
	client: Awaited<ReturnType<typeof clientFor>>,
	flagKey: string,
): Promise<Span> {
	return tracer.startActiveSpan("checkout", async (span) => {
		try {
			await client.getBooleanValue(flagKey, true);
			return span;
		} finally {
			span.end();
		}
	});
}

/** The daemon spans for one flag key, polled until the batch processor exported them (bounded wait). */
async function daemonSpansFor(
	flagKey: string,
): Promise<FakeOtlpCollector["spans"]> {
	const deadline = Date.now() + 5_000;
	for (;;) {
		const spans = collector.spans.filter(
			(s) => s.attributes["feature_flag.key"] === flagKey,
		);
		if (spans.length > 0) return spans;
		if (Date.now() > deadline) throw new Error(`no daemon span for ${flagKey}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

describe("provider → daemon trace propagation", () => {
	it.each([
		["grpc", { transport: "grpc" }, "bool-flag"],
		[
			"connect (HTTP/1.1)",
			{ transport: "connect", httpVersion: "1.1" },
			"float-flag",
		],
	] as const)(
		"the daemon span over %s is a child of the application span",
		async (_name, options, flagKey) => {
			const client = await clientFor(options);
			const span = await evaluateInSpan(client, flagKey);
			const [daemonSpan] = await daemonSpansFor(flagKey);
			expect(daemonSpan).toMatchObject({
				scope: "flagd.evaluation.v2",
				name: "resolveBoolean",
				traceId: span.spanContext().traceId,
				parentSpanId: span.spanContext().spanId,
			});
		},
		15_000,
	);

	it("uses the registered global propagator when there is one", async () => {
		propagation.setGlobalPropagator(new W3CTraceContextPropagator());
		const client = await clientFor({});
		const span = await evaluateInSpan(client, "int-flag");
		const [daemonSpan] = await daemonSpansFor("int-flag");
		expect(daemonSpan?.traceId).toBe(span.spanContext().traceId);
		expect(daemonSpan?.parentSpanId).toBe(span.spanContext().spanId);
	}, 15_000);

	it("sends no trace context with tracePropagation: false", async () => {
		const client = await clientFor({ tracePropagation: false });
		const span = await evaluateInSpan(client, "headerColor");
		const [daemonSpan] = await daemonSpansFor("headerColor");
		expect(daemonSpan?.traceId).not.toBe(span.spanContext().traceId);
		expect(daemonSpan?.parentSpanId).toBeUndefined();
	}, 15_000);

	it("starts a new trace in the daemon when no application span is active", async () => {
		const client = await clientFor({});
		await client.getBooleanValue("object-flag", true);
		const [daemonSpan] = await daemonSpansFor("object-flag");
		expect(daemonSpan?.parentSpanId).toBeUndefined();
	}, 15_000);

	it("rejects a non-boolean tracePropagation option", () => {
		expect(
			() =>
				new FlagdProvider({
					env: {},
					tracePropagation: "yes" as unknown as boolean,
				}),
		).toThrow(TypeError);
	});
});

describe("TracingHook", () => {
	it("adds a feature_flag.evaluation event to the active span", async () => {
		OpenFeature.addHooks(new TracingHook());
		const client = await clientFor({});
		await tracer.startActiveSpan("checkout", async (span) => {
			await client.getStringValue("headerColor", "none", {
				email: "x@bar.com",
			});
			await client.getBooleanValue("no-such-flag", false);
			span.end();
		});
		const [finished] = appSpans.getFinishedSpans();
		expect(finished?.events.map((e) => e.name)).toEqual([
			"feature_flag.evaluation",
			"feature_flag.evaluation",
		]);
		expect(finished?.events[0]?.attributes).toMatchObject({
			"feature_flag.key": "headerColor",
			"feature_flag.result.variant": "blue",
			"feature_flag.result.reason": "targeting_match",
		});
		expect(finished?.events[1]?.attributes).toMatchObject({
			"feature_flag.key": "no-such-flag",
			"error.type": "flag_not_found",
		});
	});

	it("does nothing without an active span", async () => {
		OpenFeature.addHooks(new TracingHook());
		const client = await clientFor({});
		await expect(client.getBooleanValue("bool-flag", true)).resolves.toBe(
			false,
		);
		expect(appSpans.getFinishedSpans()).toHaveLength(0);
	});
});
