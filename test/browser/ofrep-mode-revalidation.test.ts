/**
 * Our web provider's OFREP mode in Debian's Chromium against the real daemon: revalidation and page visibility.
 * - A flag file change that leaves the page's answer as it was: the re-fetch carries If-None-Match, the daemon
 *   answers 304, the values stay (with the server's reasons) and no CONFIGURATION_CHANGED is emitted.
 * - Page visibility (ADR-0010): headless Chromium keeps tabs and windows visible, so the page is hidden the way a
 *   real browser hides it on navigation: Chromium's back/forward cache keeps it, hidden and frozen, and going back
 *   shows it again (real `visibilitychange` events; `document.visibilityState` really changes). Becoming visible
 *   re-fetches once (answered 304 when nothing changed); becoming hidden fetches nothing; with
 *   `disableVisibilityRefresh` nothing is fetched either way. Requests are counted by the daemon (its request metrics): devtools reports the requests of a page restored
 * from the back/forward cache as aborted although the daemon answers them.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { browserTestsEnabled } from "../support/chromium.js";
import {
	type BrowserDaemonFixture,
	isOfrepBulk,
	startBrowserDaemonFixture,
} from "./support/browser-daemon-fixture.js";
import { pageState, waitForPageState } from "./support/page-state.js";

const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

interface PageState {
	status: string;
	events: string[];
	flags: Record<string, { value: unknown; reason?: string }>;
	lifecycle: string[];
}

/** `unused`: one more variant on `color`, which changes the flag set but not what any page evaluates. */
function flagDocument(color: string, unused = false): string {
	const variants: Record<string, string> = {
		red: "red",
		blue: "blue",
		green: "green",
	};
	if (unused) variants.unused = "unused";
	const web = { flagSetId: "web" };
	return JSON.stringify({
		flags: {
			color: {
				state: "ENABLED",
				variants,
				defaultVariant: color,
				metadata: web,
			},
			// Its answer differs for the context the tests switch to, so that switch is answered 200.
			greeting: {
				state: "ENABLED",
				variants: { std: "hello", other: "welcome back" },
				defaultVariant: "std",
				targeting: {
					if: [
						{ "==": [{ var: "targetingKey" }, "visible-user"] },
						"other",
						"std",
					],
				},
				metadata: web,
			},
			limit: {
				state: "ENABLED",
				variants: { small: 10, big: 1000 },
				defaultVariant: "small",
				metadata: web,
			},
		},
	});
}

const waitForState = (page: Page, predicate: string, timeoutMs = 20_000) =>
	waitForPageState(page, "ofrepMode", predicate, timeoutMs);
const state = (page: Page) => pageState<PageState>(page, "ofrepMode");

function setContext(page: Page, context: object): Promise<void> {
	return page.evaluate(
		(c) =>
			(
				window as unknown as {
					ofrepMode: { setContext(c: object): Promise<void> };
				}
			).ofrepMode.setContext(c),
		context,
	);
}

const changedEvents = (s: PageState) =>
	s.events.filter((e) => e.startsWith("PROVIDER_CONFIGURATION_CHANGED"));

describeBrowser(
	"web provider OFREP mode in Chromium: 304 and page visibility",
	() => {
		let fx: BrowserDaemonFixture;

		beforeAll(async () => {
			fx = await startBrowserDaemonFixture({
				name: "ofrep-mode-revalidation",
				flags: flagDocument("red"),
				entry: path.join(__dirname, "fixtures/ofrep-mode-page.ts"),
				files: {
					"/elsewhere.html":
						'<!doctype html><meta charset="utf-8"><title>elsewhere</title><p>another page',
				},
				launch: { backForwardCache: true },
			});
		});

		afterAll(async () => {
			await fx?.close();
		});

		/** Opens the page and waits for READY and its event stream. */
		async function open(
			query: Record<string, string> = {},
		): Promise<{ page: Page; problems: string[] }> {
			const { page, problems, streamOpened } = await fx.openOfrepPage({
				selector: "flagSetId=web",
				...query,
			});
			await waitForState(page, 's.status === "READY"');
			await streamOpened;
			return { page, problems };
		}

		/** Polls the daemon's bulk response counts until `predicate` holds. */
		async function waitForResponses(
			predicate: (counts: Record<string, number>) => boolean,
			timeoutMs = 20_000,
		): Promise<Record<string, number>> {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const counts = await fx.bulkResponses();
				if (predicate(counts)) return counts;
				if (Date.now() > deadline) {
					throw new Error(
						`bulk responses stayed at ${JSON.stringify(counts)} for ${timeoutMs} ms`,
					);
				}
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		}

		/**
		 * The counts once every request the page has made so far is answered: the page is READY, so its bulk
		 * requests are answered; the daemon counts each when its response closes, which can trail the page slightly.
		 */
		async function settledResponses(): Promise<Record<string, number>> {
			const active = async () => {
				const res = await fetch(
					`http://127.0.0.1:${fx.daemon?.ports.management}/metrics`,
				);
				return /http_server_active_requests\{[^}]*http_route="\/ofrep\/v1\/evaluate\/flags"[^}]*\} [1-9]/.test(
					await res.text(),
				);
			};
			while (await active()) await new Promise((r) => setTimeout(r, 20));
			return fx.bulkResponses();
		}

		/** Leaves the page for another and comes back to it from the back/forward cache. */
		async function hideAndShow(page: Page): Promise<void> {
			await page.goto(`${fx.site.origin}/elsewhere.html`);
			await page.goBack({ waitUntil: "commit" });
			await waitForState(
				page,
				's.lifecycle.includes("visibilitychange:visible")',
			);
			// Restored, not reloaded: the same document, and so the same provider, saw both transitions.
			expect((await state(page)).lifecycle).toEqual([
				"pageshow:loaded",
				"visibilitychange:hidden",
				"visibilitychange:visible",
				"pageshow:persisted",
			]);
		}

		it("keeps its values and emits nothing when the daemon answers a re-fetch with 304", async () => {
			fx.writeFlags(flagDocument("red"));
			const { page, problems } = await open();
			const before = await state(page);
			expect(before.flags.color).toEqual({ value: "red", reason: "STATIC" });

			// The set changes, this page's answer does not: event, conditional re-fetch, 304.
			const refetch = page.waitForRequest(
				(r) => isOfrepBulk(r) && r.url().includes("flagConfigEtag="),
			);
			fx.writeFlags(flagDocument("red", true));
			const conditional = await refetch;
			expect(await conditional.headerValue("if-none-match")).toMatch(/^".+"$/);
			expect((await conditional.response())?.status()).toBe(304);

			// A real change afterwards: its event is the only CONFIGURATION_CHANGED since the 304.
			fx.writeFlags(flagDocument("blue", true));
			await waitForState(page, 's.flags.color.value === "blue"');
			const after = await state(page);
			expect(changedEvents(after)).toEqual([
				...changedEvents(before),
				"PROVIDER_CONFIGURATION_CHANGED [color]",
			]);
			expect(after.flags.limit).toEqual({ value: 10, reason: "STATIC" });
			expect(problems).toEqual([]);
			await page.close();
		}, 90_000);

		it("re-fetches once when the page becomes visible again, and nothing when it is hidden", async () => {
			fx.writeFlags(flagDocument("green"));
			const { page, problems } = await open();
			const before = await state(page);
			const initial = await settledResponses();

			await hideAndShow(page);
			// Shown again: one revalidation for the same context, answered 304 (nothing changed meanwhile).
			await waitForResponses((c) => (c["304"] ?? 0) > (initial["304"] ?? 0));
			// The next request this page makes is a context change: the daemon has seen nothing else since.
			await setContext(page, { targetingKey: "visible-user" });
			const after = await waitForResponses(
				(c) => (c["200"] ?? 0) > (initial["200"] ?? 0),
			);
			expect(after).toEqual({
				...initial,
				"200": (initial["200"] ?? 0) + 1,
				"304": (initial["304"] ?? 0) + 1,
			});
			const shown = await state(page);
			expect(changedEvents(shown)).toEqual(changedEvents(before));
			expect(shown.flags.color).toEqual({ value: "green", reason: "STATIC" });

			// The page restored from the back/forward cache still follows the daemon's changes.
			fx.writeFlags(flagDocument("blue"));
			await waitForState(page, 's.flags.color.value === "blue"');
			expect(problems).toEqual([]);
			await page.close();
		}, 90_000);

		it("fetches nothing on visibility changes with disableVisibilityRefresh", async () => {
			const { page, problems } = await open({ visibilityRefresh: "off" });
			const initial = await settledResponses();
			await hideAndShow(page);
			await setContext(page, { targetingKey: "visible-user" });
			const after = await waitForResponses(
				(c) => (c["200"] ?? 0) > (initial["200"] ?? 0),
			);
			expect(after).toEqual({ ...initial, "200": (initial["200"] ?? 0) + 1 });
			expect(problems).toEqual([]);
			await page.close();
		}, 90_000);
	},
);
