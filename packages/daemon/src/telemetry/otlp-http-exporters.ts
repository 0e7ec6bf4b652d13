/**
 * OTLP/HTTP JSON exporters for spans and metrics. They serialize with `@opentelemetry/otlp-transformer`'s
 * JsonTraceSerializer/JsonMetricsSerializer (exactly what `@opentelemetry/exporter-{trace,metrics}-otlp-http`
 * send: `Content-Type: application/json`, hex trace ids) and POST with a statically imported node:http(s).
 *
 * Why not the stock exporter classes: their Node transport loads `http`/`https` with a runtime `import()`, which
 * fails in CommonJS test runners (Jest without --experimental-vm-modules) and gave no way to pass TLS material
 * without the same dynamic import. This transport also takes the collector mTLS files directly. A failed export is
 * logged (warn, with the URL) and reported to the SDK, which drops that batch; there is no retry queue.
 */
import * as http from "node:http";
import * as https from "node:https";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
	JsonMetricsSerializer,
	JsonTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import {
	AggregationTemporality,
	type InstrumentType,
	type PushMetricExporter,
	type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../logging/logger.js";

/** TLS material for an https:// collector (PEM contents). */
export interface CollectorTls {
	readonly ca?: Buffer;
	readonly cert?: Buffer;
	readonly key?: Buffer;
}

export interface OtlpHttpExporterOptions {
	/** Full signal URL, e.g. http://collector:4318/v1/traces. */
	readonly url: string;
	/** The TLS material to use now; a different object makes the next request use a new connection pool. */
	readonly tls: () => CollectorTls;
	readonly logger: Logger;
	/** Per-request timeout. @default 10_000 (OTLP exporter default) */
	readonly timeoutMs?: number;
}

/** Posts one JSON body; resolves on 2xx, rejects with an Error naming the status otherwise. */
class OtlpHttpPoster {
	readonly #url: URL;
	readonly #tls: () => CollectorTls;
	#agent: http.Agent;
	#agentTls: CollectorTls;
	readonly #timeoutMs: number;
	readonly #pending = new Set<Promise<void>>();

	constructor(options: OtlpHttpExporterOptions) {
		this.#url = new URL(options.url);
		this.#timeoutMs = options.timeoutMs ?? 10_000;
		this.#tls = options.tls;
		this.#agentTls = options.tls();
		this.#agent = this.#createAgent(this.#agentTls);
	}

	#createAgent(tls: CollectorTls): http.Agent {
		return this.#url.protocol === "https:"
			? new https.Agent({ keepAlive: true, ...tls })
			: new http.Agent({ keepAlive: true });
	}

	/** The agent for the current TLS material: reloaded files get a new pool, kept-alive old connections close. */
	#currentAgent(): http.Agent {
		const tls = this.#tls();
		if (tls !== this.#agentTls) {
			const old = this.#agent;
			this.#agentTls = tls;
			this.#agent = this.#createAgent(tls);
			// Requests in flight on the old pool finish first; then its kept-alive sockets close.
			void Promise.allSettled([...this.#pending]).then(() => old.destroy());
		}
		return this.#agent;
	}

	post(body: Uint8Array): Promise<void> {
		const sent = this.#send(body);
		this.#pending.add(sent);
		const forget = () => this.#pending.delete(sent);
		sent.then(forget, forget);
		return sent;
	}

	/** Waits for every request in flight (used by forceFlush/shutdown). */
	async drain(): Promise<void> {
		await Promise.allSettled([...this.#pending]);
	}

	close(): void {
		this.#agent.destroy();
	}

	#send(body: Uint8Array): Promise<void> {
		const request =
			this.#url.protocol === "https:" ? https.request : http.request;
		return new Promise<void>((resolve, reject) => {
			const req = request(this.#url, {
				method: "POST",
				agent: this.#currentAgent(),
				timeout: this.#timeoutMs,
				headers: {
					"Content-Type": "application/json",
					"Content-Length": body.byteLength,
				},
			});
			req.on("response", (res) => {
				res.resume(); // the body (an ExportServiceResponse) carries nothing we act on
				res.on("end", () => {
					const status = res.statusCode ?? 0;
					if (status >= 200 && status < 300) resolve();
					else reject(new Error(`collector answered HTTP ${status}`));
				});
				res.on("error", reject);
			});
			req.on("timeout", () =>
				req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)),
			);
			req.on("error", reject);
			req.end(body);
		});
	}
}

function exportWith(
	poster: OtlpHttpPoster,
	body: Uint8Array | undefined,
	what: string,
	logger: Logger,
	done: (result: ExportResult) => void,
): void {
	if (body === undefined) {
		const error = new Error(`cannot serialize ${what}`);
		logger.warn({ err: error }, `OpenTelemetry ${what}: ${error.message}`);
		done({ code: ExportResultCode.FAILED, error });
		return;
	}
	poster.post(body).then(
		() => done({ code: ExportResultCode.SUCCESS }),
		(e: unknown) => {
			const error = e instanceof Error ? e : new Error(String(e));
			logger.warn(
				{ err: error },
				`OpenTelemetry ${what} failed: ${error.message}`,
			);
			done({ code: ExportResultCode.FAILED, error });
		},
	);
}

/** Span exporter: BatchSpanProcessor → OTLP/HTTP JSON. */
export class OtlpHttpSpanExporter implements SpanExporter {
	readonly #poster: OtlpHttpPoster;
	readonly #options: OtlpHttpExporterOptions;

	constructor(options: OtlpHttpExporterOptions) {
		this.#options = options;
		this.#poster = new OtlpHttpPoster(options);
	}

	export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
		// The serializer reads the same span fields across SDK 1.x/2.x type copies.
		const body = JsonTraceSerializer.serializeRequest(spans as never);
		exportWith(
			this.#poster,
			body,
			`span export to ${this.#options.url}`,
			this.#options.logger,
			done,
		);
	}

	forceFlush(): Promise<void> {
		return this.#poster.drain();
	}

	async shutdown(): Promise<void> {
		await this.#poster.drain();
		this.#poster.close();
	}
}

/** Metric exporter: PeriodicExportingMetricReader → OTLP/HTTP JSON, cumulative temporality (like Prometheus). */
export class OtlpHttpMetricExporter implements PushMetricExporter {
	readonly #poster: OtlpHttpPoster;
	readonly #options: OtlpHttpExporterOptions;

	constructor(options: OtlpHttpExporterOptions) {
		this.#options = options;
		this.#poster = new OtlpHttpPoster(options);
	}

	export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
		const body = JsonMetricsSerializer.serializeRequest(metrics as never);
		exportWith(
			this.#poster,
			body,
			`metrics push to ${this.#options.url}`,
			this.#options.logger,
			done,
		);
	}

	selectAggregationTemporality(_kind: InstrumentType): AggregationTemporality {
		return AggregationTemporality.CUMULATIVE;
	}

	forceFlush(): Promise<void> {
		return this.#poster.drain();
	}

	async shutdown(): Promise<void> {
		await this.#poster.drain();
		this.#poster.close();
	}
}
