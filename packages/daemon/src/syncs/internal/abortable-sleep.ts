/**
 * Waits `delayMs`, or less when `signal` aborts first. Never rejects: loops check `signal.aborted` afterwards, so an
 * abort ends them without an exception to catch. The timer is cleared on abort, so nothing outlives shutdown.
 */
export function abortableSleep(
	delayMs: number,
	signal: AbortSignal,
): Promise<void> {
	if (signal.aborted) return Promise.resolve();
	return new Promise((resolve) => {
		const onAbort = (): void => {
			clearTimeout(timer);
			resolve();
		};
		const timer = setTimeout(
			() => {
				signal.removeEventListener("abort", onAbort);
				resolve();
			},
			Math.max(0, delayMs),
		);
		signal.addEventListener("abort", onAbort, { once: true });
	});
}
