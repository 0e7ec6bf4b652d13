/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Never rejects: callers check `signal.aborted`
 * afterwards. The timer is cleared on abort so nothing keeps the process alive after shutdown.
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
		const timer = setTimeout(() => {
			signal.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		signal.addEventListener("abort", onAbort, { once: true });
	});
}
