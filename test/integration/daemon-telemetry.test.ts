/**
 * Daemon observability against a fake OTLP/HTTP collector (a real HTTP server decoding the exporters' JSON): RPC
 * spans on 8013 and 8016 with the caller's W3C parent, flagSync spans, the OTLP metrics push, the flush on
 * close(), telemetry off (nothing sent, nothing logged), collector failures (logged, serving continues),
 * configuration errors, and per-request debug logs with flag key and request id.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterEach, describe, expect, it } from "@jest/globals";
import type { Logger } from "../../packages/daemon/src/logging/logger.js";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { FakeOtlpCollector } from "../support/fake-otlp-collector.js";
import { createTlsFixtures } from "../support/tls-fixtures.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

interface LogLine {
	level: string;
	fields: Record<string, unknown>;
	message: string;
}

function recordingLogger(
	lines: LogLine[],
	base: Record<string, unknown> = {},
): Logger {
	const at =
		(level: string) =>
		(fields: Record<string, unknown>, message: string): void => {
			lines.push({ level, fields: { ...base, ...fields }, message });
		};
	return {
		debug: at("debug"),
		info: at("info"),
		warn: at("warn"),
		error: at("error"),
		child: (fields) => recordingLogger(lines, { ...base, ...fields }),
	};
}

const collectors: FakeOtlpCollector[] = [];
const daemons: RunningDaemon[] = [];

afterEach(async () => {
	await Promise.all(daemons.splice(0).map((d) => d.close()));
	await Promise.all(collectors.splice(0).map((c) => c.close()));
});

async function collector(): Promise<FakeOtlpCollector> {
	const c = await FakeOtlpCollector.start();
	collectors.push(c);
	return c;
}

async function daemon(
	...args: Parameters<typeof startTestDaemon>
): Promise<RunningDaemon> {
	const d = await startTestDaemon(...args);
	daemons.push(d);
	await d.ready;
	return d;
}

function clientsFor(d: RunningDaemon) {
	const transport = createConnectTransport({
		baseUrl: `http://127.0.0.1:${d.ports.evaluation}`,
		httpVersion: "1.1",
	});
	return {
		v1: createClient(EvaluationServiceV1, transport),
		v2: createClient(EvaluationServiceV2, transport),
	};
}

describe("daemon OTLP export", () => {
	it("exports RPC spans as children of the caller's traceparent, and flagSync spans", async () => {
		const otlp = await collector();
		const source = new MemorySource("mem://flags", BASIC_FLAGS);
		const d = await daemon(
			[source],
			{ otelCollectorUri: otlp.url },
			{
				env: {
					OTEL_SERVICE_NAME: "flagd-under-test",
					OTEL_RESOURCE_ATTRIBUTES:
						"deployment.environment=test,team=flags%20team",
				},
			},
		);
		const { v1, v2 } = clientsFor(d);
		const headers = { traceparent: TRACEPARENT, tracestate: "vendor=abc" };
		await v2.resolveBoolean({ flagKey: "bool-flag" }, { headers });
		await v1.resolveString(
			{ flagKey: "headerColor", context: { email: "a@bar.com" } },
			{ headers },
		);
		await expect(
			v2.resolveBoolean({ flagKey: "missing-flag" }),
		).rejects.toThrow();
		await v1.resolveAll({});
		await d.close();

		const v2Span = otlp.spans.find(
			(s) =>
				s.name === "resolveBoolean" &&
				s.attributes["feature_flag.key"] === "bool-flag",
		);
		expect(v2Span).toMatchObject({
			scope: "flagd.evaluation.v2",
			traceId: TRACE_ID,
			parentSpanId: PARENT_SPAN_ID,
			kind: 2, // SPAN_KIND_SERVER in OTLP
			attributes: expect.objectContaining({
				"feature_flag.result.reason": "STATIC",
				"feature_flag.result.variant": "off",
				"feature_flag.provider.name": "flagd",
			}),
			resource: expect.objectContaining({
				"service.name": "flagd-under-test",
				"deployment.environment": "test",
				team: "flags team",
			}),
		});
		const v1Span = otlp.spans.find((s) => s.name === "resolveString");
		expect(v1Span).toMatchObject({
			scope: "flagd.evaluation.v1",
			traceId: TRACE_ID,
			parentSpanId: PARENT_SPAN_ID,
			attributes: expect.objectContaining({
				"feature_flag.key": "headerColor",
				"feature_flag.result.reason": "TARGETING_MATCH",
				"feature_flag.result.variant": "blue",
			}),
		});
		const missing = otlp.spans.find(
			(s) => s.attributes["feature_flag.key"] === "missing-flag",
		);
		expect(missing).toMatchObject({
			name: "resolveBoolean",
			statusCode: 2, // STATUS_CODE_ERROR
			attributes: expect.objectContaining({ "error.type": "FLAG_NOT_FOUND" }),
		});
		// Without a traceparent the daemon span is a root span of a new trace.
		expect(missing?.parentSpanId).toBeUndefined();
		expect(missing?.traceId).not.toBe(TRACE_ID);
		const all = otlp.spans.find((s) => s.name === "resolveAll");
		expect(all?.scope).toBe("flagd.evaluation.v1");
		expect(all?.attributes["feature_flag.flagd.flag_count"]).toBeGreaterThan(0);
		const sync = otlp.spans.find((s) => s.name === "flagSync");
		expect(sync).toMatchObject({
			scope: "flagd.sync",
			attributes: {
				"feature_flag.flagd.sync.source": "mem://flags",
				"feature_flag.flagd.sync.flag_count": Object.keys(BASIC_FLAGS.flags)
					.length,
				"feature_flag.flagd.sync.changed_key_count": Object.keys(
					BASIC_FLAGS.flags,
				).length,
			},
		});
		expect(
			otlp.requests.every((r) => r.contentType === "application/json"),
		).toBe(true);
	});

	it("records a flagSync span per payload with the number of changed keys, and failed payloads as errors", async () => {
		const otlp = await collector();
		const source = new MemorySource("mem://flags", BASIC_FLAGS);
		const d = await daemon(
			[source],
			{ otelCollectorUri: otlp.url },
			{ env: {} },
		);
		const changed = structuredClone(BASIC_FLAGS) as unknown as {
			flags: Record<string, { defaultVariant: string }>;
		};
		const boolFlag = changed.flags["bool-flag"];
		if (boolFlag === undefined) throw new Error("fixture changed");
		boolFlag.defaultVariant = "on";
		source.push(changed);
		source.push("{ not json");
		await waitFor(
			() =>
				d.store.get("bool-flag")?.compiled.definition.defaultVariant === "on",
			2_000,
			"update",
		);
		await d.close();
		const syncs = otlp.spans.filter((s) => s.name === "flagSync");
		expect(syncs).toHaveLength(3);
		expect(
			syncs[1]?.attributes["feature_flag.flagd.sync.changed_key_count"],
		).toBe(1);
		expect(syncs[2]?.statusCode).toBe(2);
		expect(syncs[2]?.attributes["error.type"]).toBe("SOURCE_PAYLOAD_INVALID");
	});

	it("exports OFREP spans with tracer flagd.ofrep.v1", async () => {
		const otlp = await collector();
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{ otelCollectorUri: otlp.url },
			{ env: {} },
		);
		const response = await fetch(
			`http://127.0.0.1:${d.ports.ofrep}/ofrep/v1/evaluate/flags/bool-flag`,
			{
				method: "POST",
				headers: {
					"content-type": "application/json",
					traceparent: TRACEPARENT,
				},
				body: JSON.stringify({ context: {} }),
			},
		);
		expect(response.status).toBe(200);
		await response.text();
		await d.close();
		expect(otlp.spans.find((s) => s.name === "evaluateFlag")).toMatchObject({
			scope: "flagd.ofrep.v1",
			traceId: TRACE_ID,
			parentSpanId: PARENT_SPAN_ID,
			attributes: expect.objectContaining({
				"feature_flag.key": "bool-flag",
				"feature_flag.result.variant": "off",
				"http.response.status_code": 200,
			}),
		});
	});

	it("close() flushes spans that the batch processor still holds", async () => {
		const otlp = await collector();
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{ otelCollectorUri: otlp.url },
			{ env: {} },
		);
		await clientsFor(d).v2.resolveBoolean({ flagKey: "bool-flag" });
		// The batch processor exports every 5 s by default: nothing has been sent yet.
		expect(otlp.requests.filter((r) => r.path === "/v1/traces")).toHaveLength(
			0,
		);
		await d.close();
		expect(otlp.spans.filter((s) => s.name === "resolveBoolean")).toHaveLength(
			1,
		);
	});

	it("pushes flagd's metrics over OTLP when metricsExporter is otel", async () => {
		const otlp = await collector();
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{ otelCollectorUri: otlp.url, metricsExporter: "otel" },
			{ env: { OTEL_METRIC_EXPORT_INTERVAL: "100" } },
		);
		const { v2 } = clientsFor(d);
		await v2.resolveBoolean({ flagKey: "bool-flag" });
		await v2.resolveBoolean({ flagKey: "bool-flag" });
		await expect(v2.resolveBoolean({ flagKey: "nope" })).rejects.toThrow();
		await waitFor(
			() =>
				otlp.metric("feature_flag.flagd.impression").some((p) => p.value === 2),
			5_000,
			"impression push",
		);
		await d.close();
		const impression = otlp.metric("feature_flag.flagd.impression").at(-1);
		expect(impression).toMatchObject({
			scope: "flagd",
			unit: "{impression}",
			value: 2,
			attributes: {
				"feature_flag.key": "bool-flag",
				"feature_flag.result.variant": "off",
				"feature_flag.provider.name": "flagd",
				"feature_flag.reason": "STATIC",
			},
		});
		const reasons = otlp.metric("feature_flag.flagd.result.reason");
		expect(
			reasons.some(
				(p) =>
					p.attributes["exception.type"] === "FLAG_NOT_FOUND" && p.value === 1,
			),
		).toBe(true);
		const durations = otlp.metric("http.server.request.duration");
		expect(durations.length).toBeGreaterThan(0);
		const ok = durations.find(
			(p) => p.attributes["http.response.status_code"] === 200,
		);
		expect(ok).toMatchObject({
			unit: "s",
			attributes: expect.objectContaining({
				"http.route": "/flagd.evaluation.v2.Service/ResolveBoolean",
				"http.request.method": "POST",
				"http.response.status_code": 200,
				"url.scheme": "http",
				"service.name": "flagd",
			}),
		});
		expect(otlp.metric("http.server.active_requests").length).toBeGreaterThan(
			0,
		);
	});

	it("sends nothing and logs no problem when no collector is configured", async () => {
		const otlp = await collector();
		const lines: LogLine[] = [];
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{},
			{ env: {}, logger: recordingLogger(lines) },
		);
		const { v1, v2 } = clientsFor(d);
		await v2.resolveBoolean(
			{ flagKey: "bool-flag" },
			{ headers: { traceparent: TRACEPARENT } },
		);
		await v1.resolveAll({});
		await d.close();
		expect(otlp.requests).toHaveLength(0);
		expect(
			// The fixture's deliberately broken flag draws a store warning; nothing else may complain.
			lines.filter(
				(l) =>
					(l.level === "warn" || l.level === "error") &&
					l.fields.component !== "store",
			),
		).toEqual([]);
		expect(lines.some((l) => l.fields.component === "telemetry")).toBe(false);
	});

	it("logs failed exports and keeps serving while the collector rejects them", async () => {
		const otlp = await collector();
		otlp.status = 503;
		const lines: LogLine[] = [];
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{ otelCollectorUri: otlp.url },
			{ env: {}, logger: recordingLogger(lines) },
		);
		const result = await clientsFor(d).v2.resolveBoolean({
			flagKey: "bool-flag",
		});
		expect(result.value).toBe(false);
		await d.close();
		expect(otlp.requests.some((r) => r.path === "/v1/traces")).toBe(true);
		expect(
			lines.some(
				(l) =>
					l.level === "warn" &&
					l.message.includes("span export") &&
					l.fields.component === "telemetry",
			),
		).toBe(true);
	});

	it("exports to an https:// collector trusted through --otel-ca-path", async () => {
		const tls = createTlsFixtures();
		try {
			const otlp = await FakeOtlpCollector.start({
				cert: tls.serverCert,
				key: tls.serverKey,
			});
			collectors.push(otlp);
			const d = await daemon(
				[new MemorySource("mem://flags", BASIC_FLAGS)],
				{ otelCollectorUri: otlp.url, otelCaPath: tls.caCertPath },
				{ env: {} },
			);
			await clientsFor(d).v2.resolveBoolean({ flagKey: "bool-flag" });
			await d.close();
			expect(otlp.url.startsWith("https://")).toBe(true);
			expect(otlp.spans.some((s) => s.name === "resolveBoolean")).toBe(true);
		} finally {
			tls.remove();
		}
	});

	it("re-reads a rotated collector CA file every --otel-reload-interval", async () => {
		const first = createTlsFixtures();
		const second = createTlsFixtures();
		const caDir = mkdtempSync(path.join(tmpdir(), "otel-ca-"));
		const caPath = path.join(caDir, "ca.pem");
		copyFileSync(first.caCertPath, caPath);
		try {
			const otlp = await FakeOtlpCollector.start({
				cert: first.serverCert,
				key: first.serverKey,
			});
			collectors.push(otlp);
			const d = await daemon(
				[new MemorySource("mem://flags", BASIC_FLAGS)],
				{
					otelCollectorUri: otlp.url,
					otelCaPath: caPath,
					otelReloadIntervalMs: 50,
				},
				{ env: { OTEL_BSP_SCHEDULE_DELAY: "20" } },
			);
			const clients = clientsFor(d);
			const spansAfter = async (count: number): Promise<boolean> => {
				const deadline = Date.now() + 10_000;
				while (Date.now() < deadline) {
					await clients.v2.resolveBoolean({ flagKey: "bool-flag" });
					if (otlp.spans.length > count) return true;
					await new Promise((resolve) => setTimeout(resolve, 25));
				}
				return false;
			};
			expect(await spansAfter(0)).toBe(true);
			// The collector now presents a certificate of another CA: exports fail until the CA file says so.
			otlp.serveCertificate({ cert: second.serverCert, key: second.serverKey });
			copyFileSync(second.caCertPath, caPath);
			const before = otlp.spans.length;
			expect(await spansAfter(before)).toBe(true);
			await d.close();
		} finally {
			first.remove();
			second.remove();
			rmSync(caDir, { recursive: true, force: true });
		}
	});

	it("fails at start with CONFIG_INVALID when a collector TLS file cannot be read", async () => {
		await expect(
			startTestDaemon(
				[new MemorySource("mem://flags", BASIC_FLAGS)],
				{
					otelCollectorUri: "https://127.0.0.1:4318",
					otelCaPath: "/nonexistent/ca.pem",
				},
				{ env: {} },
			),
		).rejects.toMatchObject({ code: "CONFIG_INVALID" });
	});

	it("rejects a non-HTTP collector URI at start with CONFIG_INVALID", async () => {
		await expect(
			startTestDaemon(
				[new MemorySource("mem://flags", BASIC_FLAGS)],
				{ otelCollectorUri: "grpc://localhost:4317" },
				{ env: {} },
			),
		).rejects.toMatchObject({ code: "CONFIG_INVALID" });
	});

	it("uses OTEL_EXPORTER_OTLP_ENDPOINT when no --otel-collector-uri is given", async () => {
		const otlp = await collector();
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{},
			{
				env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url },
			},
		);
		await clientsFor(d).v2.resolveString({ flagKey: "headerColor" });
		await d.close();
		expect(otlp.spans.some((s) => s.name === "resolveString")).toBe(true);
	});
});

describe("daemon request logs", () => {
	it("logs one debug line per evaluation with flag key and the caller's x-request-id when debug is on", async () => {
		const lines: LogLine[] = [];
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{ debug: true },
			{ env: {}, logger: recordingLogger(lines) },
		);
		const { v2 } = clientsFor(d);
		await v2.resolveBoolean(
			{ flagKey: "bool-flag" },
			{ headers: { "x-request-id": "req-42" } },
		);
		await v2.resolveBoolean({ flagKey: "float-flag" }).catch(() => undefined);
		const ofrep = await fetch(
			`http://127.0.0.1:${d.ports.ofrep}/ofrep/v1/evaluate/flags/int-flag`,
			{
				method: "POST",
				headers: {
					"content-type": "application/json",
					"x-request-id": "req-ofrep",
				},
				body: "{}",
			},
		);
		await ofrep.text();
		const evaluations = lines.filter((l) => l.message === "flag evaluated");
		expect(evaluations[0]).toMatchObject({
			level: "debug",
			fields: {
				component: "requests",
				api: "flagd.evaluation.v2",
				requestId: "req-42",
				flagKey: "bool-flag",
				reason: "STATIC",
				variant: "off",
			},
		});
		// Without x-request-id the daemon generates one.
		expect(evaluations[1]?.fields.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(evaluations[1]?.fields.errorCode).toBe("TYPE_MISMATCH");
		expect(evaluations[2]?.fields).toMatchObject({
			api: "flagd.ofrep.v1",
			requestId: "req-ofrep",
			flagKey: "int-flag",
		});
		// The sync path logs with its source.
		expect(lines.some((l) => l.fields.source === "mem://flags")).toBe(true);
	});

	it("writes no per-request lines when debug is off", async () => {
		const lines: LogLine[] = [];
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{},
			{ env: {}, logger: recordingLogger(lines) },
		);
		await clientsFor(d).v2.resolveBoolean(
			{ flagKey: "bool-flag" },
			{ headers: { "x-request-id": "req-42" } },
		);
		expect(lines.some((l) => l.message === "flag evaluated")).toBe(false);
	});
});

describe("docs/observability.md", () => {
	it("names only metrics that /metrics really emits, in its table and its PromQL", async () => {
		const doc = readFileSync(
			path.join(__dirname, "..", "..", "docs", "observability.md"),
			"utf8",
		);
		const d = await daemon(
			[new MemorySource("mem://flags", BASIC_FLAGS)],
			{},
			{ env: {} },
		);
		await clientsFor(d).v2.resolveBoolean({ flagKey: "bool-flag" });
		const scrape = await (
			await fetch(`http://127.0.0.1:${d.ports.management}/metrics`)
		).text();
		const families = new Set(
			[...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]),
		);
		const referenced = new Set(
			[...doc.matchAll(/\b((?:http_server|feature_flag_flagd)_[a-z_]+)/g)].map(
				(m) => m[1] ?? "",
			),
		);
		expect(referenced.size).toBeGreaterThan(5);
		for (const name of referenced) {
			// Histogram series carry _bucket/_sum/_count on top of the family name.
			const family = name.replace(/_(bucket|sum|count)$/, "");
			expect({
				name,
				known: families.has(family) || families.has(name),
			}).toEqual({
				name,
				known: true,
			});
		}
		// Every family /metrics emits is documented.
		for (const family of families) {
			if (
				family?.startsWith("http_server") ||
				family?.startsWith("feature_flag")
			) {
				expect(doc).toContain(`\`${family}`);
			}
		}
	});
});
