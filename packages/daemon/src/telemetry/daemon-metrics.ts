/**
 * The daemon's Prometheus metrics, named as flagd's OTel instruments come out of its Prometheus exporter
 * (flagd-semantics.md §9: dots become underscores, units and `_total` become suffixes). One registry per daemon,
 * so several daemons in one process (tests, embedding) do not collide.
 */
import type { Registry as RegistryType } from "prom-client";
// The classes straight from their modules: the package index also loads the default process metrics, the
// cluster aggregator, the push gateway client and Summary (with their Node modules), ~1 MiB that no daemon uses.
import Counter from "prom-client/lib/counter.js";
import Gauge from "prom-client/lib/gauge.js";
import Histogram from "prom-client/lib/histogram.js";
import Registry from "prom-client/lib/registry.js";
import {
	EvaluationTallies,
	type EvaluationTally,
} from "./evaluation-tallies.js";
import { type RequestSeries, RequestTallies } from "./request-tallies.js";

export type { EvaluationTally };

const PROVIDER_NAME = "flagd";

/** A Node response (HTTP/1.1 or HTTP/2), as {@link DaemonMetrics.observeResponse} reads it. */
export interface ClosingResponse {
	on(event: "close", listener: () => void): unknown;
	readonly statusCode: number;
}

/**
 * Receives the measurements that cannot be read back later (histogram observations), so the OTLP metrics push
 * (telemetry/) sees the same data as /metrics. Counters and gauges are read through the `forEach*` methods.
 */
export interface MetricsObserver {
	requestEnded(
		labels: Readonly<Record<string, string>>,
		statusCode: number,
		seconds: number,
	): void;
	syncStreamEnded(
		labels: {
			readonly selector: string;
			readonly providerId: string;
			readonly reason: string;
		},
		seconds: number,
	): void;
}

/** One evaluation series as the OTLP push reads it. */
export interface EvaluationCount {
	readonly key: string;
	readonly reason: string;
	readonly variant: string | undefined;
	readonly errorCode: string | undefined;
	readonly count: number;
}

/** What the services record. Each method is cheap: a label lookup and an increment. */
export class DaemonMetrics {
	readonly registry: RegistryType = new Registry();
	/** The HTTP request metrics (request-tallies.ts): every request goes through them. */
	readonly #requests: RequestTallies;
	readonly #impressions: Counter<string>;
	readonly #reasons: Counter<string>;
	readonly #activeSyncStreams: Gauge<string>;
	readonly #syncStreamDuration: Histogram<string>;
	readonly #evaluations = new EvaluationTallies();
	readonly #activeSyncStreamCounts = new Map<
		string,
		{ readonly selector: string; readonly providerId: string; active: number }
	>();
	#observer: MetricsObserver | undefined;

	/** Attaches the OTLP push (or detaches it with undefined). */
	setObserver(observer: MetricsObserver | undefined): void {
		this.#observer = observer;
	}

	/** Every evaluation series with its running count. */
	forEachEvaluation(visit: (series: EvaluationCount) => void): void {
		this.#evaluations.eachSeries((series) =>
			visit({
				key: series.key,
				reason: series.resultReason,
				variant: series.variant,
				errorCode: series.errorCode,
				count: series.count,
			}),
		);
	}

	/** Every request series (Prometheus label names) with its number of requests in flight. */
	forEachActiveRequests(
		visit: (labels: Readonly<Record<string, string>>, active: number) => void,
	): void {
		this.#requests.forEachActive(visit);
	}

	/** Every (selector, provider id) pair with its number of open sync streams. */
	forEachActiveSyncStreams(
		visit: (selector: string, providerId: string, active: number) => void,
	): void {
		for (const entry of this.#activeSyncStreamCounts.values()) {
			visit(entry.selector, entry.providerId, entry.active);
		}
	}

	constructor() {
		const registers = [this.registry];
		this.#requests = new RequestTallies(this.registry);
		this.#impressions = new Counter({
			name: "feature_flag_flagd_impression_total",
			help: "The number of evaluations for a given flag.",
			labelNames: [
				"feature_flag_key",
				"feature_flag_result_variant",
				"feature_flag_provider_name",
				"feature_flag_reason",
			],
			registers,
			collect: () => this.#collectImpressions(),
		});
		this.#reasons = new Counter({
			name: "feature_flag_flagd_result_reason_total",
			help: "The number of evaluations for a given reason.",
			labelNames: [
				"feature_flag_provider_name",
				"feature_flag_reason",
				"feature_flag_key",
				"exception_type",
			],
			registers,
			collect: () => this.#collectReasons(),
		});
		this.#activeSyncStreams = new Gauge({
			name: "feature_flag_flagd_sync_active_streams",
			help: "The number of active sync streams.",
			labelNames: ["selector", "provider_id"],
			registers,
		});
		this.#syncStreamDuration = new Histogram({
			name: "feature_flag_flagd_sync_stream_duration_seconds",
			help: "Duration of sync streams.",
			labelNames: ["selector", "provider_id", "reason"],
			buckets: [30, 60, 300, 900, 1800, 3600, 10800],
			registers,
		});
	}

	/** HTTP requests the evaluation and OFREP ports answered since start (monotonic; a stream counts when it ends). */
	requestCount(): number {
		return this.#requests.ended;
	}

	/** Starts timing one HTTP request; call the returned function with the status code when it ends. */
	startRequest(
		route: string,
		method: string,
		scheme: "http" | "https",
	): (statusCode: number) => void {
		const started = performance.now();
		const series = this.#requests.start(route, method, scheme);
		return (statusCode) => this.#endRequest(series, started, statusCode);
	}

	/**
	 * {@link startRequest} for a Node response: the request ends at the response's 'close' with its status code. One
	 * listener and no other closure per request.
	 */
	observeResponse(
		route: string,
		method: string,
		scheme: "http" | "https",
		res: ClosingResponse,
	): void {
		const started = performance.now();
		const series = this.#requests.start(route, method, scheme);
		// 'close' comes once per response: `on` spares the once-wrapper.
		res.on("close", () => this.#endRequest(series, started, res.statusCode));
	}

	#endRequest(
		series: RequestSeries,
		started: number,
		statusCode: number,
	): void {
		const seconds = this.#requests.end(series, started, statusCode);
		this.#observer?.requestEnded(series.labels, statusCode, seconds);
	}

	/** Records one evaluation outcome (impression only on success, as flagd does). */
	recordEvaluation(
		key: string,
		reason: string,
		variant: string | undefined,
		errorCode: string | undefined,
	): void {
		this.#evaluations.record(key, reason, variant, errorCode);
	}

	/**
	 * Runs `run` (synchronous) and returns what it returned with the series of every evaluation it recorded, in
	 * order: what replaying its answer must count again.
	 */
	captureEvaluations<T>(run: () => T): {
		value: T;
		tallies: readonly EvaluationTally[];
	} {
		return this.#evaluations.capture(run);
	}

	/** Counts the evaluations behind a replayed answer, exactly as computing it again would. */
	replayEvaluations(tallies: readonly EvaluationTally[]): void {
		this.#evaluations.replay(tallies);
	}

	#collectImpressions(): void {
		this.#impressions.reset();
		this.#evaluations.eachSeries((series) => {
			// Impressions count successful evaluations only, as flagd does.
			if (series.errorCode !== undefined) return;
			this.#impressions.inc(
				{
					feature_flag_key: series.key,
					feature_flag_result_variant: series.variant ?? "",
					feature_flag_provider_name: PROVIDER_NAME,
					feature_flag_reason: series.resultReason,
				},
				series.count,
			);
		});
	}

	#collectReasons(): void {
		this.#reasons.reset();
		this.#evaluations.eachSeries((series) => {
			this.#reasons.inc(
				{
					feature_flag_provider_name: PROVIDER_NAME,
					feature_flag_reason: series.resultReason,
					feature_flag_key: series.errorCode === undefined ? series.key : "",
					exception_type: series.errorCode ?? "",
				},
				series.count,
			);
		});
	}

	/** Counts one open sync stream; call the returned function with why it ended. */
	startSyncStream(
		selector: string,
		providerId: string,
	): (reason: string) => void {
		const started = performance.now();
		const labels = { selector, provider_id: providerId };
		this.#activeSyncStreams.inc(labels);
		const countKey = `${selector}\u0000${providerId}`;
		let count = this.#activeSyncStreamCounts.get(countKey);
		if (count === undefined) {
			count = { selector, providerId, active: 0 };
			this.#activeSyncStreamCounts.set(countKey, count);
		}
		count.active++;
		const counted = count;
		return (reason) => {
			this.#activeSyncStreams.dec(labels);
			counted.active--;
			const seconds = (performance.now() - started) / 1000;
			this.#syncStreamDuration.observe({ ...labels, reason }, seconds);
			this.#observer?.syncStreamEnded(
				{ selector, providerId, reason },
				seconds,
			);
		};
	}
}
