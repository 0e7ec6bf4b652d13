/**
 * Interop in Debian's Chromium: the published @openfeature/ofrep-web-provider (0.4, bundled with esbuild) against
 * our daemon's OFREP port, from another origin (CORS restricted to the page, `Flagd-Selector` header), polling off.
 * A flag file write reaches the page only through the advertised event stream: the provider re-fetches with the
 * event's etag, sees the new value, and gets 304 when the change does not alter its answer. After a daemon restart
 * (with a change made while it was down) the provider reconnects and catches up.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
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
	values: Record<string, unknown>;
}

function flagDocument(color: string, extraVariant = false): string {
	const variants: Record<string, string> = {
		red: "red",
		blue: "blue",
		green: "green",
	};
	if (extraVariant) variants.unused = "unused";
	return JSON.stringify({
		flags: {
			color: {
				state: "ENABLED",
				variants,
				defaultVariant: color,
				metadata: { flagSetId: "web" },
			},
			"other-color": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: "red",
				metadata: { flagSetId: "other" },
			},
		},
	});
}

const waitForState = (page: Page, predicate: string, timeoutMs = 15_000) =>
	waitForPageState(page, "ofrepPage", predicate, timeoutMs);
const state = (page: Page) => pageState<PageState>(page, "ofrepPage");

describeBrowser("@openfeature/ofrep-web-provider in Chromium", () => {
	let fx: BrowserDaemonFixture;

	beforeAll(async () => {
		fx = await startBrowserDaemonFixture({
			name: "ofrep-web-browser",
			flags: flagDocument("red"),
			entry: path.join(__dirname, "fixtures/ofrep-web-page.ts"),
		});
	});

	afterAll(async () => {
		await fx?.close();
	});

	it("re-fetches on the daemon's change events, gets 304 when its answer is unchanged, and recovers after a restart", async () => {
		const { page, problems, streamOpened } = await fx.openOfrepPage(
			{ selector: "flagSetId=web", keys: "color,other-color" },
			(url) =>
				url === `${fx.ofrepBaseUrl}/ofrep/v1/sse?selector=flagSetId%3Dweb`,
		);
		await waitForState(page, 's.status === "READY"');
		expect((await state(page)).values).toEqual({
			color: "red",
			// Another flag set: not selected.
			"other-color": "<default>",
		});
		await streamOpened;

		// A change to the selected set: an event, then a re-fetch carrying the event's etag and our ETag.
		let refetch = page.waitForRequest(
			(r) => isBulk(r) && r.url().includes("flagConfigEtag="),
		);
		fx.writeFlags(flagDocument("blue"));
		const triggered = await refetch;
		expect(await triggered.headerValue("if-none-match")).toMatch(/^".+"$/);
		expect((await triggered.response())?.status()).toBe(200);
		await waitForState(
			page,
			's.events.includes("PROVIDER_CONFIGURATION_CHANGED [color]") && s.values.color === "blue"',
		);

		// A change that leaves this page's answer as it was: the re-fetch is answered 304.
		refetch = page.waitForRequest(
			(r) => isBulk(r) && r.url().includes("flagConfigEtag="),
		);
		fx.writeFlags(flagDocument("blue", true));
		expect((await (await refetch).response())?.status()).toBe(304);

		// Restart, with a change made while the daemon is down.
		await fx.stopDaemon();
		await waitForState(page, 's.events.includes("PROVIDER_STALE")');
		fx.writeFlags(flagDocument("green"));
		await fx.startDaemon();
		await waitForState(page, 's.values.color === "green"', 60_000);
		const s = await state(page);
		expect(
			s.events.filter((e) => e.startsWith("PROVIDER_CONFIGURATION_CHANGED")),
		).toEqual([
			"PROVIDER_CONFIGURATION_CHANGED [color]",
			"PROVIDER_CONFIGURATION_CHANGED [color]",
		]);
		expect(problems).toEqual([]);
		await page.close();
	}, 120_000);
});
