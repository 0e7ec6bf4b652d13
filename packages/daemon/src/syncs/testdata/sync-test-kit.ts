/**
 * Test helpers for the sync-source tests (not part of the build: testdata/ holds only test support).
 * No jest imports here, so the helpers stay plain functions the tests compose.
 */
import type { Logger } from "../../logger.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";

export interface LogEntry {
	readonly level: "debug" | "info" | "warn" | "error";
	readonly fields: Record<string, unknown>;
	readonly message: string;
}

/** A Logger that records every entry (child fields merged in) so tests can assert on warnings. */
export function recordingLogger(
	entries: LogEntry[] = [],
	base: Record<string, unknown> = {},
): Logger & { readonly entries: LogEntry[] } {
	const log =
		(level: LogEntry["level"]) =>
		(fields: Record<string, unknown>, message: string): void => {
			entries.push({ level, fields: { ...base, ...fields }, message });
		};
	return {
		entries,
		debug: log("debug"),
		info: log("info"),
		warn: log("warn"),
		error: log("error"),
		child: (fields) => recordingLogger(entries, { ...base, ...fields }),
	};
}

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
