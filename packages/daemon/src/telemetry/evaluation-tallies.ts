/**
 * The evaluation counts behind the impression and result-reason counters (daemon-metrics.ts): one series per (flag
 * key, reason, variant, error code), counted with plain numbers on the hot path and turned into Prometheus label
 * sets only at scrape time. A cached answer replays its evaluations by counting the series it captured again.
 */

/**
 * One (flag, reason, variant, error) series. Its Prometheus label sets are built at scrape time: at 10,000 flags
 * two label objects per series would be megabytes held only for the scrape.
 */
export interface EvaluationSeries {
	count: number;
	readonly key: string;
	readonly resultReason: string;
	readonly variant: string | undefined;
	readonly errorCode: string | undefined;
}

/**
 * One evaluation series (flag key, reason, variant, error code) as {@link EvaluationTallies.capture} hands it out:
 * a cached answer replays its evaluations by counting them again ({@link EvaluationTallies.replay}).
 */
export interface EvaluationTally {
	readonly key: string;
}

function sameSeries(
	series: EvaluationSeries,
	reason: string,
	variant: string | undefined,
	errorCode: string | undefined,
): boolean {
	return (
		series.resultReason === reason &&
		series.variant === variant &&
		series.errorCode === errorCode
	);
}

/** See the file comment. */
export class EvaluationTallies {
	/**
	 * Flag key → its series (one per reason and variant seen): the series itself while there is one, as most flags
	 * have (a ResolveAll of 10,000 flags records 10,000 keys), a list once there are more.
	 */
	readonly #series = new Map<string, EvaluationSeries | EvaluationSeries[]>();
	/** Collects the series recorded while an answer is computed (capture). */
	#captured: EvaluationSeries[] | undefined;

	/** Counts one evaluation outcome. */
	record(
		key: string,
		reason: string,
		variant: string | undefined,
		errorCode: string | undefined,
	): void {
		// Plain numbers on the hot path, and no allocation once a series exists (ResolveAll records every flag per
		// request); prom-client's label hashing runs only at scrape time (collect()).
		const entry = this.#series.get(key);
		if (entry !== undefined) {
			let found: EvaluationSeries | undefined;
			if (!Array.isArray(entry)) {
				if (sameSeries(entry, reason, variant, errorCode)) found = entry;
			} else {
				for (const series of entry)
					if (sameSeries(series, reason, variant, errorCode)) {
						found = series;
						break;
					}
			}
			if (found !== undefined) {
				found.count++;
				this.#captured?.push(found);
				return;
			}
		}
		const created: EvaluationSeries = {
			count: 1,
			key,
			resultReason: reason,
			variant,
			errorCode,
		};
		if (entry === undefined) this.#series.set(key, created);
		else if (Array.isArray(entry)) entry.push(created);
		else this.#series.set(key, [entry, created]);
		this.#captured?.push(created);
	}

	/**
	 * Runs `run` (synchronous) and returns what it returned with the series of every evaluation it recorded, in
	 * order: what replaying its answer must count again.
	 */
	capture<T>(run: () => T): {
		value: T;
		tallies: readonly EvaluationTally[];
	} {
		const outer = this.#captured;
		const tallies: EvaluationSeries[] = [];
		this.#captured = tallies;
		try {
			const value = run();
			outer?.push(...tallies);
			return { value, tallies };
		} finally {
			this.#captured = outer;
		}
	}

	/** Counts the evaluations behind a replayed answer, exactly as computing it again would. */
	replay(tallies: readonly EvaluationTally[]): void {
		for (const tally of tallies) {
			const series = tally as EvaluationSeries;
			series.count++;
			this.#captured?.push(series);
		}
	}

	/** Every series with its running count. */
	eachSeries(visit: (series: EvaluationSeries) => void): void {
		for (const entry of this.#series.values()) {
			if (Array.isArray(entry)) for (const series of entry) visit(series);
			else visit(entry);
		}
	}
}
