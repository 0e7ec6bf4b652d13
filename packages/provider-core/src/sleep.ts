/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Never rejects: callers check `signal.aborted`
 * afterwards, so an abort ends a loop without an exception to catch. The timer is cleared on abort so nothing
 * keeps the process alive after shutdown. Negative delays count as 0.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) {
			resolve();
			return;
		}
		const onAbort = (): void => {
			clearTimeout(timer);
			resolve();
		};
		const timer = setTimeout(
			() => {
				signal.removeEventListener("abort", onAbort);
				resolve();
			},
			Math.max(0, ms),
		);
		signal.addEventListener("abort", onAbort, { once: true });
	});
}
