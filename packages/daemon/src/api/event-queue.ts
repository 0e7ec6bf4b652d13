/**
 * A single-consumer queue for server streams: producers push, the stream's generator awaits the next item, an
 * idle timeout or the end. One timer at a time and no listener per wait, so long-lived streams do not leak.
 */
export type QueueWait<T> =
	| { readonly kind: "item"; readonly item: T }
	| { readonly kind: "idle" }
	| { readonly kind: "end"; readonly reason: string };

/** See the file comment. */
export class EventQueue<T> {
	readonly #items: T[] = [];
	#wake: (() => void) | undefined;
	#endReason: string | undefined;

	push(item: T): void {
		if (this.#endReason !== undefined) return;
		this.#items.push(item);
		this.#wake?.();
	}

	/** Ends the queue; items already queued are still delivered first. The first reason sticks. */
	end(reason: string): void {
		this.#endReason ??= reason;
		this.#wake?.();
	}

	get ended(): boolean {
		return this.#endReason !== undefined;
	}

	/** The next item, `idle` after `idleMs` without one, or `end`. */
	async next(idleMs: number): Promise<QueueWait<T>> {
		const ready = this.#take();
		if (ready !== undefined) return ready;
		await new Promise<void>((resolve) => {
			const timer = setTimeout(done, idleMs);
			const self = this;
			function done() {
				clearTimeout(timer);
				self.#wake = undefined;
				resolve();
			}
			this.#wake = done;
		});
		return this.#take() ?? { kind: "idle" };
	}

	#take(): QueueWait<T> | undefined {
		const item = this.#items.shift();
		if (item !== undefined) return { kind: "item", item };
		if (this.#endReason !== undefined) {
			return { kind: "end", reason: this.#endReason };
		}
		return undefined;
	}
}
