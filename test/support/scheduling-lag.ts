/**
 * How late this process's timers have been running: the allowance a "bounded time" assertion adds to its bound.
 *
 * A check like "every call ends within deadline + margin" must fail for a client that hangs or retries forever,
 * yet pass on a shared 2-core CI machine where other processes keep this one off the CPU for seconds. When the
 * process is starved, its timers fire late, and libuv's event-loop delay histogram records exactly that; a client
 * that hangs waiting on a socket leaves the loop idle and the histogram small. So a bound of
 * `deadline + margin + observed lag` stays tight on a quiet machine and grows only with real starvation.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

export interface SchedulingLag {
	/** The longest timer delay seen since the last `reset()`, in ms (0 before any sample). */
	maxMs(): number;
	reset(): void;
	stop(): void;
}

export function monitorSchedulingLag(resolutionMs = 10): SchedulingLag {
	const histogram: IntervalHistogram = monitorEventLoopDelay({
		resolution: resolutionMs,
	});
	histogram.enable();
	return {
		// The histogram holds nanoseconds; `max` is 0 until a sample exists.
		maxMs: () => histogram.max / 1e6,
		reset: () => histogram.reset(),
		stop: () => histogram.disable(),
	};
}
