/**
 * The HTTP request metrics (`http_server_request_duration_seconds`, `http_server_active_requests`) as flagd's
 * OTel HTTP instruments come out of its Prometheus exporter. Kept apart from the evaluation and sync-stream
 * metrics because every request the daemon answers goes through here: a series is found without building a key
 * when the route repeats, and the duration histogram is a plain tally handed to the registry at scrape
 * (tallied-histogram.ts).
 */
import type { Registry as RegistryType } from "prom-client";
// Straight from its module, as daemon-metrics.ts explains.
import Gauge from "prom-client/lib/gauge.js";
import { type HistogramSeries, TalliedHistogram } from "./tallied-histogram.js";

const SERVICE_NAME = "flagd";

/** One (route, method, scheme) label set: requests in flight and a duration series per status code. */
export interface RequestSeries {
	readonly labels: Record<string, string>;
	active: number;
	readonly durationByStatus: Map<number, HistogramSeries>;
}

/** See the file comment. */
export class RequestTallies {
	/** Tallied per series, handed to the registry at scrape (tallied-histogram.ts): every request observes it. */
	readonly #duration: TalliedHistogram;
	readonly #active: Gauge<string>;
	readonly #seriesCache = new Map<string, RequestSeries>();
	#lastSeries: RequestSeries | undefined;
	#ended = 0;

	/** Registers both metrics in `registry`, duration first (the order /metrics lists them in). */
	constructor(registry: RegistryType) {
		// Labels: service_name, http_route, http_request_method, url_scheme, http_response_status_code.
		this.#duration = new TalliedHistogram(
			"http_server_request_duration_seconds",
			"Duration of HTTP server requests.",
			[
				0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5,
				10,
			],
			registry,
		);
		this.#active = new Gauge({
			name: "http_server_active_requests",
			help: "Number of active HTTP server requests.",
			labelNames: [
				"service_name",
				"http_route",
				"http_request_method",
				"url_scheme",
			],
			registers: [registry],
			collect: () => this.#collectActive(),
		});
	}

	/** Counts one request in flight on its series; hand the series to {@link end} when it ends. */
	start(route: string, method: string, scheme: string): RequestSeries {
		const series = this.#series(route, method, scheme);
		series.active++;
		return series;
	}

	/** Requests ended since the tallies were made (never reset: the request rate is read from it). */
	get ended(): number {
		return this.#ended;
	}

	/** Ends one request started at `started` (performance.now()); returns its duration in seconds. */
	end(series: RequestSeries, started: number, statusCode: number): number {
		this.#ended++;
		series.active--;
		let duration = series.durationByStatus.get(statusCode);
		if (duration === undefined) {
			duration = this.#duration.series({
				...series.labels,
				http_response_status_code: String(statusCode),
			});
			series.durationByStatus.set(statusCode, duration);
		}
		const seconds = (performance.now() - started) / 1000;
		this.#duration.observe(duration, seconds);
		return seconds;
	}

	/** Every request series (Prometheus label names) with its number of requests in flight. */
	forEachActive(
		visit: (labels: Readonly<Record<string, string>>, active: number) => void,
	): void {
		for (const series of this.#seriesCache.values()) {
			visit(series.labels, series.active);
		}
	}

	#collectActive(): void {
		for (const series of this.#seriesCache.values()) {
			this.#active.set(series.labels, series.active);
		}
	}

	#series(route: string, method: string, scheme: string): RequestSeries {
		// A port under load mostly sees one route: the last series is checked first, without building a key.
		const last = this.#lastSeries;
		if (
			last !== undefined &&
			last.labels.http_route === route &&
			last.labels.http_request_method === method &&
			last.labels.url_scheme === scheme
		)
			return last;
		const cacheKey = `${route}\u0000${method}\u0000${scheme}`;
		let series = this.#seriesCache.get(cacheKey);
		if (series === undefined) {
			const labels = {
				service_name: SERVICE_NAME,
				http_route: route,
				http_request_method: method,
				url_scheme: scheme,
			};
			series = {
				labels,
				active: 0,
				durationByStatus: new Map(),
			};
			this.#seriesCache.set(cacheKey, series);
		}
		this.#lastSeries = series;
		return series;
	}
}
