/**
 * Test helpers for the sync-source tests (not part of the build: testdata/ holds only test support): a recording
 * logger, an awaitable collector of a source's payloads, a flag document, a local HTTP peer, and {@link syncTestRun},
 * the per-test set-up every sync test shares (fresh log, sources stopped when the test ends).
 */
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach } from "@jest/globals";
import type { Logger } from "../../logging/logger.js";
import {
	type LogEntry,
	recordingLogger,
} from "../../logging/testdata/recording-logger.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";

/**
 * Polls `condition` every `intervalMs` until it is truthy or `timeoutMs` passes (then throws with `what`). The
 * default only bounds how long a failing test takes: generous, so a loaded CI machine never trips it.
 */
export const DEFAULT_WAIT_MS = 20_000;

export async function waitFor<T>(
	condition: () => T | Promise<T>,
	what: string,
	timeoutMs = DEFAULT_WAIT_MS,
	intervalMs = 10,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await condition();
		if (value) return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, intervalMs));
	}
}

/**
 * Drains `source.sync(signal)` in the background into `payloads`, recording how the iteration ended.
 * `next()` waits for the next payload not yet taken.
 */
export class PayloadCollector {
	readonly payloads: SyncPayload[] = [];
	readonly receivedAtMs: number[] = [];
	error: unknown;
	ended = false;
	readonly done: Promise<void>;
	private taken = 0;

	constructor(source: SyncSource, signal: AbortSignal) {
		this.done = (async () => {
			try {
				for await (const payload of source.sync(signal)) {
					this.payloads.push(payload);
					this.receivedAtMs.push(Date.now());
				}
			} catch (error: unknown) {
				this.error = error;
			} finally {
				this.ended = true;
			}
		})();
	}

	async next(timeoutMs = DEFAULT_WAIT_MS): Promise<SyncPayload> {
		await waitFor(
			() => this.payloads.length > this.taken || this.ended,
			`payload #${this.taken + 1}`,
			timeoutMs,
			2,
		);
		const payload = this.payloads[this.taken];
		if (payload === undefined)
			throw new Error(
				`sync ended without payload #${this.taken + 1}: ${String(this.error)}`,
			);
		this.taken += 1;
		return payload;
	}

	/** Payloads received but not yet taken by next(). */
	get untaken(): number {
		return this.payloads.length - this.taken;
	}
}

/** A flag document with one boolean flag whose default variant is `variant`; `extra` adds flags. */
export function flagDocument(
	variant: "on" | "off",
	extra: Record<string, unknown> = {},
): string {
	return JSON.stringify({
		flags: {
			myFlag: {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: variant,
			},
			...extra,
		},
	});
}

/**
 * What one sync test works with: the log of this test, and the sources it started, each drained into a
 * {@link PayloadCollector} until the test ends. {@link syncTestRun} renews it before each test.
 */
export class SyncTestRun {
	#entries: LogEntry[] = [];
	#controller = new AbortController();

	/** Every entry logged during this test. */
	get entries(): LogEntry[] {
		return this.#entries;
	}

	/** Aborted when the test ends (or by {@link end}): the sources' sync loops stop. */
	get signal(): AbortSignal {
		return this.#controller.signal;
	}

	/** A logger recording into {@link entries}. */
	logger(): Logger & { readonly entries: LogEntry[] } {
		return recordingLogger(this.#entries);
	}

	/** Starts draining `source` for this test. */
	collect<S extends SyncSource>(
		source: S,
	): { source: S; collector: PayloadCollector } {
		return { source, collector: new PayloadCollector(source, this.signal) };
	}

	/** The warnings logged so far. */
	warnings(): LogEntry[] {
		return this.#entries.filter((e) => e.level === "warn");
	}

	/** Stops every source started in this test. */
	end(): void {
		this.#controller.abort();
	}

	/** A fresh log and signal for the next test. */
	renew(): void {
		this.#entries = [];
		this.#controller = new AbortController();
	}
}

/** A {@link SyncTestRun} renewed before each test of the calling file and ended after it. */
export function syncTestRun(): SyncTestRun {
	const run = new SyncTestRun();
	beforeEach(() => run.renew());
	afterEach(() => run.end());
	return run;
}

/** A real node:http server on 127.0.0.1, the peer of the HTTP-based sources' tests. */
export interface LocalHttpServer {
	/** `http://127.0.0.1:<port>`. */
	readonly url: string;
	readonly port: number;
	/** Drops open connections (watches, keep-alive) and closes. */
	close(): Promise<void>;
}

/** Starts a {@link LocalHttpServer} on a free port. */
export async function startLocalHttpServer(
	handle: RequestListener,
): Promise<LocalHttpServer> {
	const server = createServer(handle);
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		close: async () => {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
