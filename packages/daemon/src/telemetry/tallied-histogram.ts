/**
 * A Prometheus histogram whose series are plain tallies (bucket counts, sum, count) updated with a few number
 * operations, and handed to prom-client's Registry only at scrape time, which formats them as it formats its own
 * Histogram. prom-client's Histogram checks and hashes the label set on every observation (a string built from
 * every label value), a cost the request-duration metric paid on every request the daemon answers.
 *
 * The exposition is prom-client's Histogram's, value for value: series in creation order, cumulative `_bucket`
 * lines per upper bound (`le`), then `+Inf`, `_sum` and `_count`, with the series labels after `le`.
 */
import type { Metric, Registry } from "prom-client";

/** One label set's observations. */
export interface HistogramSeries {
	readonly labels: Readonly<Record<string, string>>;
	/** Observations per bucket (not cumulative); index i counts values in (bounds[i-1], bounds[i]]. */
	readonly counts: number[];
	sum: number;
	count: number;
}

/** One exported sample, in the shape prom-client's Registry formats (as its Histogram hands them over). */
interface Sample {
	readonly labels: Record<string, string | number>;
	readonly sharedLabels: Readonly<Record<string, string>>;
	readonly value: number;
	readonly metricName: string;
	readonly exemplar?: null;
}

/** See the file comment. */
export class TalliedHistogram {
	readonly type = "histogram";
	readonly aggregator = "sum";
	readonly #series: HistogramSeries[] = [];

	constructor(
		readonly name: string,
		readonly help: string,
		private readonly upperBounds: readonly number[],
		registry: Registry,
	) {
		// The Registry reads name, help, type and values through getForPromString()/get(), and calls reset().
		registry.registerMetric(this as unknown as Metric);
	}

	/** A new series for `labels` (the caller keeps it and looks it up; label sets are not checked here). */
	series(labels: Readonly<Record<string, string>>): HistogramSeries {
		const series: HistogramSeries = {
			labels,
			counts: this.upperBounds.map(() => 0),
			sum: 0,
			count: 0,
		};
		this.#series.push(series);
		return series;
	}

	/** Records one value (finite) in `series`. */
	observe(series: HistogramSeries, value: number): void {
		const bounds = this.upperBounds;
		for (let i = 0; i < bounds.length; i++) {
			if (value <= (bounds[i] as number)) {
				(series.counts[i] as number)++;
				break;
			}
		}
		series.sum += value;
		series.count++;
	}

	/** Forgets every observation (prom-client's Registry.resetMetrics). Series handed out stay valid, hidden until observed. */
	reset(): void {
		for (const series of this.#series) {
			series.counts.fill(0);
			series.sum = 0;
			series.count = 0;
		}
	}

	getForPromString(): {
		name: string;
		help: string;
		type: string;
		values: Sample[];
		aggregator: string;
	} {
		const bucket = `${this.name}_bucket`;
		const values: Sample[] = [];
		for (const series of this.#series) {
			// As prom-client: a label set appears once observed (and again after a reset only when observed again).
			if (series.count === 0) continue;
			let cumulative = 0;
			for (const [i, le] of this.upperBounds.entries()) {
				cumulative += series.counts[i] as number;
				values.push({
					labels: { le },
					sharedLabels: series.labels,
					value: cumulative,
					metricName: bucket,
					exemplar: null,
				});
			}
			values.push(
				{
					labels: { le: "+Inf" },
					sharedLabels: series.labels,
					value: series.count,
					metricName: bucket,
					exemplar: null,
				},
				{
					labels: {},
					sharedLabels: series.labels,
					value: series.sum,
					metricName: `${this.name}_sum`,
				},
				{
					labels: {},
					sharedLabels: series.labels,
					value: series.count,
					metricName: `${this.name}_count`,
				},
			);
		}
		return {
			name: this.name,
			help: this.help,
			type: this.type,
			values,
			aggregator: this.aggregator,
		};
	}

	/** The JSON form (Registry.getMetricsAsJSON): each sample's labels with the series labels merged in. */
	get(): Omit<ReturnType<TalliedHistogram["getForPromString"]>, "values"> & {
		values: Omit<Sample, "sharedLabels">[];
	} {
		const data = this.getForPromString();
		return {
			...data,
			values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
				...rest,
				labels: { ...labels, ...sharedLabels },
			})),
		};
	}
}
