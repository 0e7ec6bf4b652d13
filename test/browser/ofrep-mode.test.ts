/**
 * Our web provider's OFREP mode (`@flagd-ts/web-provider/ofrep`, bundled with esbuild) in Debian's Chromium
 * against the real daemon's OFREP port, from another origin (CORS restricted to the page, `Flagd-Selector`):
 * every flag type evaluated, a flag file edit arriving through the advertised event stream (the browser's
 * EventSource) and the re-fetch, a context change re-fetching, a daemon restart going STALE → READY +
 * CONFIGURATION_CHANGED, and a reload serving the values persisted in localStorage before the network answers.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page, Route } from "playwright-core";
import { browserTestsEnabled } from "../support/chromium.js";
import {
	type BrowserDaemonFixture,
	isOfrepBulk as isBulk,
	startBrowserDaemonFixture,
} from "./support/browser-daemon-fixture.js";
import { pageState, waitForPageState } from "./support/page-state.js";

const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

interface PageState {
	status: string;
	events: string[];
	flags: Record<string, { value: unknown; reason?: string }>;
}

function flagDocument(color: string, limit = 10): string {
	const web = { flagSetId: "web" };
	return JSON.stringify({
		flags: {
			"new-ui": {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: "on",
				metadata: web,
			},
			color: {
				state: "ENABLED",
				variants: { red: "red", blue: "blue", green: "green" },
				defaultVariant: color,
				metadata: web,
			},
			limit: {
				state: "ENABLED",
				variants: { small: limit, big: 1000 },
				defaultVariant: "small",
				metadata: web,
			},
			config: {
				state: "ENABLED",
				variants: { v1: { theme: "dark", items: [1, 2] } },
				defaultVariant: "v1",
				metadata: web,
			},
			greeting: {
				state: "ENABLED",
				variants: { std: "hello", vip: "welcome back" },
				defaultVariant: "std",
				targeting: {
					if: [{ "==": [{ var: "targetingKey" }, "vip-7"] }, "vip", "std"],
				},
				metadata: web,
			},
			"other-color": {
				state: "ENABLED",
				variants: { red: "red" },
				defaultVariant: "red",
				metadata: { flagSetId: "other" },
			},
		},
	});
}

const waitForState = (page: Page, predicate: string, timeoutMs = 20_000) =>
	waitForPageState(page, "ofrepMode", predicate, timeoutMs);
const state = (page: Page) => pageState<PageState>(page, "ofrepMode");

describeBrowser("web provider OFREP mode in Chromium", () => {
	let fx: BrowserDaemonFixture;

	beforeAll(async () => {
		fx = await startBrowserDaemonFixture({
			name: "ofrep-mode-browser",
			flags: flagDocument("red"),
			entry: path.join(__dirname, "fixtures/ofrep-mode-page.ts"),
		});
	});

	afterAll(async () => {
		await fx?.close();
	});

	it("evaluates, follows file changes over SSE, re-fetches on context change, recovers from a restart and serves persisted values on reload", async () => {
		const { page, problems, streamOpened } = await fx.openOfrepPage(
			{ selector: "flagSetId=web" },
			(url) =>
				url === `${fx.ofrepBaseUrl}/ofrep/v1/sse?selector=flagSetId%3Dweb`,
		);
		await waitForState(page, 's.status === "READY"');
		expect((await state(page)).flags).toEqual({
			"new-ui": { value: true, reason: "STATIC" },
			color: { value: "red", reason: "STATIC" },
			limit: { value: 10, reason: "STATIC" },
			config: { value: { theme: "dark", items: [1, 2] }, reason: "STATIC" },
			greeting: { value: "hello", reason: "TARGETING_MATCH" },
			// Another flag set: not selected.
			"other-color": { value: "<default>", reason: "ERROR" },
		});
		await streamOpened;

		// A file edit: the daemon's event, then a re-fetch with our ETag and the event's etag.
		const refetch = page.waitForRequest(
			(r) => isBulk(r) && r.url().includes("flagConfigEtag="),
		);
		fx.writeFlags(flagDocument("blue"));
		const triggered = await refetch;
		expect(await triggered.headerValue("if-none-match")).toMatch(/^".+"$/);
		await waitForState(
			page,
			's.events.includes("PROVIDER_CONFIGURATION_CHANGED [color]") && s.flags.color.value === "blue"',
		);

		// Context change: one bulk request with the new context.
		const contextual = page.waitForRequest(
			(r) => isBulk(r) && (r.postData() ?? "").includes("vip-7"),
		);
		await page.evaluate(() =>
			(
				window as unknown as {
					ofrepMode: { setContext(c: object): Promise<void> };
				}
			).ofrepMode.setContext({ targetingKey: "vip-7" }),
		);
		expect(JSON.parse((await contextual).postData() ?? "")).toEqual({
			context: { targetingKey: "vip-7" },
		});
		await waitForState(
			page,
			's.flags.greeting.value === "welcome back" && s.flags.greeting.reason === "TARGETING_MATCH"',
		);

		// Restart, with a change made while the daemon is down.
		await fx.stopDaemon();
		await waitForState(page, 's.status === "STALE"');
		fx.writeFlags(flagDocument("blue", 20));
		await fx.startDaemon();
		await waitForState(
			page,
			's.status === "READY" && s.flags.limit.value === 20',
			60_000,
		);
		const after = await state(page);
		const tail = after.events.slice(after.events.lastIndexOf("PROVIDER_STALE"));
		expect(tail).toContain("PROVIDER_READY");
		expect(tail).toContain("PROVIDER_CONFIGURATION_CHANGED [limit]");
		expect(tail.indexOf("PROVIDER_READY")).toBeLessThan(
			tail.indexOf("PROVIDER_CONFIGURATION_CHANGED [limit]"),
		);

		// Reload with the bulk request held back: the persisted values (reason CACHED) come first.
		const held: Route[] = [];
		let heldOne = () => {};
		const firstHeld = new Promise<void>((resolve) => {
			heldOne = resolve;
		});
		await page.route("**/ofrep/v1/evaluate/flags**", (route) => {
			if (route.request().method() !== "POST") return void route.continue();
			held.push(route);
			heldOne();
		});
		// The reload's context is user-1 again (the page sets it before the provider starts): its entry was last
		// written before the restart, when limit was still 10.
		await page.reload();
		await waitForState(page, 's.status === "READY"');
		const cached = await state(page);
		await firstHeld; // the refresh is on its way and cannot have been answered
		expect(cached.flags.color).toEqual({ value: "blue", reason: "CACHED" });
		expect(cached.flags.limit).toEqual({ value: 10, reason: "CACHED" });
		expect(cached.flags.greeting).toEqual({ value: "hello", reason: "CACHED" });
		for (const route of held) await route.continue();
		await page.unroute("**/ofrep/v1/evaluate/flags**");
		// The network answer replaces them: the server's reasons again, and the change since then as an event.
		await waitForState(
			page,
			's.flags.limit.value === 20 && s.events.includes("PROVIDER_CONFIGURATION_CHANGED [limit]")',
		);
		expect((await state(page)).flags.color).toEqual({
			value: "blue",
			reason: "STATIC",
		});
		expect(problems).toEqual([]);
		await page.close();
	}, 150_000);
});
