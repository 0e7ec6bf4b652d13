/**
 * A level-triggered wake-up between event callbacks (fs.watch, timers) and an async loop: `notify()` any number of
 * times, `wait()` resolves once per batch. Lets a source be written as one readable loop instead of callback chains.
 */
export class ChangeTrigger {
	private pending = false;
	private waiter: (() => void) | undefined;

	notify(): void {
		this.pending = true;
		const waiter = this.waiter;
		this.waiter = undefined;
		waiter?.();
	}

	/**
	 * Resolves `true` when notified (consuming the notification), `false` when `timeoutMs` passes or `signal`
	 * aborts first. Only one waiter at a time.
	 */
	wait(signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
		if (this.pending) {
			this.pending = false;
			return Promise.resolve(true);
		}
		if (signal.aborted) return Promise.resolve(false);
		return new Promise((resolve) => {
			let timer: NodeJS.Timeout | undefined;
			const finish = (notified: boolean): void => {
				if (timer !== undefined) clearTimeout(timer);
				signal.removeEventListener("abort", onAbort);
				this.waiter = undefined;
				if (notified) this.pending = false;
				resolve(notified);
			};
			const onAbort = (): void => finish(false);
			this.waiter = () => finish(true);
			if (timeoutMs !== undefined)
				timer = setTimeout(() => finish(false), timeoutMs);
			signal.addEventListener("abort", onAbort, { once: true });
		});
	}
}
