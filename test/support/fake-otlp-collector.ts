/**
 * A fake OpenTelemetry collector: a real node:http server on 127.0.0.1 that accepts OTLP/HTTP JSON posts on
 * /v1/traces and /v1/metrics (what @opentelemetry/exporter-*-otlp-http send), decodes them, and exposes the
 * spans and metric data points in a flat shape for assertions. `status` makes it answer with an error code.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

/** One received span, flattened from resourceSpans/scopeSpans. */
export interface ReceivedSpan {
	readonly name: string;
	readonly scope: string;
	readonly traceId: string;
	readonly spanId: string;
	readonly parentSpanId: string | undefined;
	readonly kind: number | undefined;
	readonly statusCode: number | undefined;
	readonly attributes: Readonly<Record<string, unknown>>;
	readonly resource: Readonly<Record<string, unknown>>;
}

/** One received metric data point. */
export interface ReceivedPoint {
	readonly metric: string;
	readonly unit: string | undefined;
	readonly scope: string;
	readonly attributes: Readonly<Record<string, unknown>>;
	/** Sum/gauge value, or histogram count. */
	readonly value: number;
	readonly resource: Readonly<Record<string, unknown>>;
}

interface AnyValue {
	stringValue?: string;
	intValue?: string | number;
	doubleValue?: number;
	boolValue?: boolean;
}
interface KeyValue {
	key: string;
	value: AnyValue;
}

export class FakeOtlpCollector {
	readonly spans: ReceivedSpan[] = [];
	readonly points: ReceivedPoint[] = [];
	/** Every request: path and content type. */
	readonly requests: Array<{ path: string; contentType: string | undefined }> =
		[];
	/** HTTP status to answer with. @default 200 */
	status = 200;
	readonly #server: http.Server;
	readonly #scheme: "http" | "https";

	private constructor(server: http.Server, scheme: "http" | "https") {
		this.#server = server;
		this.#scheme = scheme;
	}

	/** Starts on a free port; with `tls` (PEM cert and key) it serves https. */
	static async start(tls?: {
		cert: Buffer;
		key: Buffer;
	}): Promise<FakeOtlpCollector> {
		let collector: FakeOtlpCollector | undefined;
		const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
			collector?.handle(req, res);
		};
		const server =
			tls === undefined
				? http.createServer(handler)
				: https.createServer(tls, handler);
		collector = new FakeOtlpCollector(
			server,
			tls === undefined ? "http" : "https",
		);
		await new Promise<void>((resolve) =>
			server.listen(0, "127.0.0.1", resolve),
		);
		return collector;
	}

	/** Base URL, e.g. http://127.0.0.1:PORT (what --otel-collector-uri takes). */
	get url(): string {
		const { port } = this.#server.address() as AddressInfo;
		return `${this.#scheme}://127.0.0.1:${port}`;
	}

	get port(): number {
		return (this.#server.address() as AddressInfo).port;
	}

	metric(name: string): ReceivedPoint[] {
		return this.points.filter((p) => p.metric === name);
	}

	/** https only: serves `tls` from now on and drops open connections, so clients handshake again. */
	serveCertificate(tls: { cert: Buffer; key: Buffer }): void {
		(this.#server as https.Server).setSecureContext(tls);
		this.#server.closeAllConnections();
	}

	async close(): Promise<void> {
		this.#server.closeAllConnections();
		await new Promise<void>((resolve, reject) =>
			this.#server.close((e) => (e === undefined ? resolve() : reject(e))),
		);
	}

	private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => {
			const path = req.url ?? "/";
			this.requests.push({ path, contentType: req.headers["content-type"] });
			if (this.status !== 200) {
				res.writeHead(this.status, { "Content-Type": "application/json" });
				res.end("{}");
				return;
			}
			try {
				const body = JSON.parse(
					Buffer.concat(chunks).toString("utf8"),
				) as Record<string, unknown>;
				if (path === "/v1/traces") this.decodeTraces(body);
				else if (path === "/v1/metrics") this.decodeMetrics(body);
				res.writeHead(200, { "Content-Type": "application/json" });
				res.end("{}");
			} catch (e: unknown) {
				res.writeHead(400, { "Content-Type": "text/plain" });
				res.end(`cannot decode: ${String(e)}`);
			}
		});
	}

	private decodeTraces(body: Record<string, unknown>): void {
		for (const rs of (body.resourceSpans ?? []) as Array<
			Record<string, unknown>
		>) {
			const resource = attributesOf(
				(rs.resource as { attributes?: KeyValue[] } | undefined)?.attributes,
			);
			for (const ss of (rs.scopeSpans ?? []) as Array<
				Record<string, unknown>
			>) {
				const scope = (ss.scope as { name?: string } | undefined)?.name ?? "";
				for (const span of (ss.spans ?? []) as Array<Record<string, unknown>>) {
					const parent = span.parentSpanId as string | undefined;
					this.spans.push({
						name: span.name as string,
						scope,
						traceId: span.traceId as string,
						spanId: span.spanId as string,
						parentSpanId:
							parent === undefined || parent === "" ? undefined : parent,
						kind: span.kind as number | undefined,
						statusCode: (span.status as { code?: number } | undefined)?.code,
						attributes: attributesOf(span.attributes as KeyValue[] | undefined),
						resource,
					});
				}
			}
		}
	}

	private decodeMetrics(body: Record<string, unknown>): void {
		for (const rm of (body.resourceMetrics ?? []) as Array<
			Record<string, unknown>
		>) {
			const resource = attributesOf(
				(rm.resource as { attributes?: KeyValue[] } | undefined)?.attributes,
			);
			for (const sm of (rm.scopeMetrics ?? []) as Array<
				Record<string, unknown>
			>) {
				const scope = (sm.scope as { name?: string } | undefined)?.name ?? "";
				for (const metric of (sm.metrics ?? []) as Array<
					Record<string, unknown>
				>) {
					const data = (metric.sum ?? metric.gauge ?? metric.histogram) as
						| { dataPoints?: Array<Record<string, unknown>> }
						| undefined;
					for (const point of data?.dataPoints ?? []) {
						const raw = point.asInt ?? point.asDouble ?? point.count;
						this.points.push({
							metric: metric.name as string,
							unit: metric.unit as string | undefined,
							scope,
							attributes: attributesOf(
								point.attributes as KeyValue[] | undefined,
							),
							value: Number(raw),
							resource,
						});
					}
				}
			}
		}
	}
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const { key, value } of list ?? []) {
		out[key] =
			value.stringValue ??
			(value.intValue === undefined ? undefined : Number(value.intValue)) ??
			value.doubleValue ??
			value.boolValue;
	}
	return out;
}
