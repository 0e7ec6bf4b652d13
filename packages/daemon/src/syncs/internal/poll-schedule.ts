/**
 * When a polling source (http, blobs) polls next. Like flagd, polls are aligned to the wall clock (every
 * `intervalMs` since the epoch) and shifted by a deterministic offset derived from `intervalSeed` with FNV-1a 32,
 * so replicas with different seeds spread out instead of polling in lock-step (flagd#1944).
 */
import { sleep as abortableSleep } from "@flagd-ts/provider-core";

const FNV32_OFFSET_BASIS = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv32a(text: string): number {
	let hash = FNV32_OFFSET_BASIS;
	for (const byte of Buffer.from(text, "utf8")) {
		hash ^= byte;
		hash = Math.imul(hash, FNV32_PRIME) >>> 0;
	}
	return hash >>> 0;
}

/** The poll offset within one interval for a seed; 0 without a seed. */
export function pollOffsetMs(
	intervalMs: number,
	intervalSeed: string | undefined,
): number {
	if (intervalSeed === undefined || intervalSeed === "" || intervalMs <= 0)
		return 0;
	return fnv32a(intervalSeed) % intervalMs;
}

/** Milliseconds from `nowMs` to the next tick of the `intervalMs` grid shifted by `offsetMs` (always > 0). */
export function nextPollDelayMs(
	nowMs: number,
	intervalMs: number,
	offsetMs: number,
): number {
	const sinceTick =
		(((nowMs - offsetMs) % intervalMs) + intervalMs) % intervalMs;
	return intervalMs - sinceTick;
}

export interface PollScheduleOptions {
	readonly intervalMs: number;
	readonly intervalSeed?: string | undefined;
	/** Clock; a test seam. @default Date.now */
	readonly now?: () => number;
}

/** Sleeps until the next poll tick; resolves early (without error) when `signal` aborts. */
export async function waitForNextPoll(
	options: PollScheduleOptions,
	signal: AbortSignal,
): Promise<void> {
	const now = options.now ?? Date.now;
	const offset = pollOffsetMs(options.intervalMs, options.intervalSeed);
	await abortableSleep(
		nextPollDelayMs(now(), options.intervalMs, offset),
		signal,
	);
}
