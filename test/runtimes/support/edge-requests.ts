/**
 * Requests to an edge function under test (a Worker in miniflare, an Edge Runtime context) and the checks the
 * workerd and edge-runtime tests share: JSON answers, re-evaluating until a pushed change shows, and the clear
 * 503 an unreachable daemon must produce within the provider's deadline.
 */
import { expect } from "@jest/globals";
import {
	type DetailsJson,
	EDGE_FLAGS,
	EDGE_FLAGS_CHANGED,
} from "./edge-flags.js";

/** Sends one request (path and query) to the function under test. */
export type EdgeFetch = (pathAndQuery: string) => Promise<Response>;

/** Something the daemon syncs from that a test can change (the integration harness's MemorySource). */
export interface PushableSource {
	push(document: object): void;
}

/** The JSON body of a successful answer; anything else throws with the status and body. */
export async function getJson<T>(
	fetch: EdgeFetch,
	pathAndQuery: string,
): Promise<T> {
	const response = await fetch(pathAndQuery);
	const text = await response.text();
	if (!response.ok)
		throw new Error(`${pathAndQuery}: ${response.status} ${text}`);
	return JSON.parse(text) as T;
}

/** Re-evaluates until `done` holds; each round is a full request, bounded by the provider's deadline. */
export async function evaluateUntil(
	fetch: EdgeFetch,
	pathAndQuery: string,
	done: (d: DetailsJson) => boolean,
	timeoutMs: number,
): Promise<DetailsJson> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const details = await getJson<DetailsJson>(fetch, pathAndQuery);
		if (done(details)) return details;
		if (Date.now() > deadline)
			throw new Error(`${pathAndQuery}: still ${JSON.stringify(details)}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/**
 * Pushes EDGE_FLAGS_CHANGED and expects `string-flag` to turn blue (STATIC), then restores EDGE_FLAGS and waits
 * for red again, so the next test starts from the document it expects.
 */
export async function expectChangeSeen(
	fetch: EdgeFetch,
	source: PushableSource,
): Promise<void> {
	const query = "/string-flag?type=string";
	source.push(EDGE_FLAGS_CHANGED);
	try {
		const changed = await evaluateUntil(
			fetch,
			query,
			(d) => d.value === "#0000cc",
			30_000,
		);
		expect(changed).toMatchObject({ variant: "blue", reason: "STATIC" });
	} finally {
		source.push(EDGE_FLAGS);
		await evaluateUntil(fetch, query, (d) => d.value === "#cc0000", 30_000);
	}
}

/**
 * A function pointed at a closed port answers 503 naming the deadline, no sooner than the deadline and not much
 * later (the margin is a loaded machine's scheduling, not a retry).
 */
export async function expectUnreachableAnswer(
	fetch: EdgeFetch,
	deadlineMs: number,
): Promise<void> {
	const started = Date.now();
	const response = await fetch("/bool-flag?type=boolean");
	const elapsedMs = Date.now() - started;
	expect(response.status).toBe(503);
	const body = (await response.json()) as { error: string };
	expect(body.error).toMatch(
		new RegExp(`no connection within deadlineMs=${deadlineMs}`),
	);
	expect(elapsedMs).toBeGreaterThanOrEqual(deadlineMs - 50);
	expect(elapsedMs).toBeLessThan(deadlineMs + 8_000);
}

/** `targeted-flag`'s rule gives GOLD to a `vip-` targeting key and STANDARD (its default) to anyone else. */
export async function expectTargetingEvaluated(
	fetch: EdgeFetch,
): Promise<void> {
	const gold = await getJson<DetailsJson>(
		fetch,
		"/targeted-flag?type=string&user=vip-7",
	);
	expect(gold).toMatchObject({
		value: "GOLD",
		variant: "gold",
		reason: "TARGETING_MATCH",
	});
	const standard = await getJson<DetailsJson>(
		fetch,
		"/targeted-flag?type=string&user=someone",
	);
	expect(standard).toMatchObject({ value: "STANDARD", reason: "DEFAULT" });
}
