/**
 * The example page (docs/examples/web, bundled with esbuild at test time) in Debian's Chromium: served from one
 * 127.0.0.1 port, talking to the real daemon on another (CORS restricted to the page's origin, selector header
 * included). It evaluates flags, changes context, sees a flag file edit arrive as CONFIGURATION_CHANGED and
 * survives a daemon restart on the same port. Writes test-artifacts/web-provider-example.png.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { browserTestsEnabled } from "../support/chromium.js";
import { startStaticServer } from "../support/static-server.js";
import {
	type BrowserDaemonFixture,
	REPO_ROOT as ROOT,
	startBrowserDaemonFixture,
} from "./support/browser-daemon-fixture.js";
import { pageState, waitForPageState } from "./support/page-state.js";

const EXAMPLE = path.join(ROOT, "docs/examples/web");
const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

interface PageState {
	status: string;
	events: string[];
	flags: Record<
		string,
		{ value: unknown; reason?: string; variant?: string; errorCode?: string }
	>;
}

const state = (page: Page) => pageState<PageState>(page, "flagdExample");
const waitForState = (page: Page, predicate: string, timeoutMs = 10_000) =>
	waitForPageState(page, "flagdExample", predicate, timeoutMs);

describeBrowser("web provider in Chromium (example page)", () => {
	let fx: BrowserDaemonFixture;

	beforeAll(async () => {
		fx = await startBrowserDaemonFixture({
			name: "web-provider-browser",
			flags: readFileSync(path.join(ROOT, "docs/examples/flags.json"), "utf8"),
			entry: path.join(EXAMPLE, "main.ts"),
			html: readFileSync(path.join(EXAMPLE, "index.html"), "utf8"),
		});
	});

	afterAll(async () => {
		await fx?.close();
	});

	it("evaluates, changes context, receives a file change and survives a daemon restart", async () => {
		const { page, problems } = await fx.openPage();
		const query = new URLSearchParams({
			host: "127.0.0.1",
			port: String(fx.evaluationPort),
			selector: "flagSetId=example",
		});
		await page.goto(`${fx.site.origin}/index.html?${query}`);

		await waitForState(page, 's.status === "READY"');
		let s = await state(page);
		expect(s.flags["show-welcome-banner"]).toMatchObject({
			value: false,
			variant: "off",
			reason: "DEFAULT",
		});
		expect(s.flags["max-items"]).toMatchObject({
			value: 10,
			variant: "small",
			reason: "STATIC",
		});
		expect(s.flags["new-checkout"]).toMatchObject({
			value: false,
			reason: "DISABLED",
		});

		await page.fill("#email", "me@example.com");
		await page.click("button[type=submit]");
		await waitForState(page, 's.flags["show-welcome-banner"].value === true');
		expect(await page.isVisible("#banner")).toBe(true);
		s = await state(page);
		expect(s.events.some((e) => e.includes("PROVIDER_RECONCILING"))).toBe(true);
		expect(s.events.some((e) => e.includes("PROVIDER_CONTEXT_CHANGED"))).toBe(
			true,
		);

		const document = JSON.parse(readFileSync(fx.flagFile, "utf8")) as {
			flags: Record<string, { defaultVariant: string }>;
		};
		const maxItems = document.flags["max-items"];
		if (maxItems === undefined) throw new Error("fixture lost max-items");
		maxItems.defaultVariant = "large";
		fx.writeFlags(JSON.stringify(document));
		await waitForState(
			page,
			's.events.some((e) => e.endsWith("PROVIDER_CONFIGURATION_CHANGED [max-items]"))',
		);
		expect((await state(page)).flags["max-items"]?.value).toBe(100);

		await fx.stopDaemon();
		await waitForState(page, 's.status === "STALE" || s.status === "ERROR"');
		expect((await state(page)).flags["max-items"]).toMatchObject({
			value: 100,
			reason: "STALE",
		});
		await fx.startDaemon();
		await waitForState(page, 's.status === "READY"', 15_000);
		s = await state(page);
		expect(s.flags["show-welcome-banner"]).toMatchObject({
			value: true,
			reason: "TARGETING_MATCH",
		});
		expect(s.flags["max-items"]).toMatchObject({
			value: 100,
			reason: "STATIC",
		});
		const order = s.events.map((e) => e.split(" ")[1]);
		expect(order.lastIndexOf("PROVIDER_STALE")).toBeLessThan(
			order.lastIndexOf("PROVIDER_READY"),
		);

		mkdirSync(path.join(ROOT, "test-artifacts"), { recursive: true });
		await page.screenshot({
			path: path.join(ROOT, "test-artifacts/web-provider-example.png"),
			fullPage: true,
		});
		expect(problems).toEqual([]);
		await page.close();
	});

	it("cannot reach the daemon from an origin outside --cors-origin (initialize fails, status ERROR)", async () => {
		const other = await startStaticServer({ files: fx.siteFiles });
		try {
			const page = await fx.browser.newPage();
			await page.goto(
				`${other.origin}/index.html?host=127.0.0.1&port=${fx.evaluationPort}&deadlineMs=500`,
			);
			await waitForState(page, 's.status === "ERROR"');
			const s = await state(page);
			expect(s.events.some((e) => e.startsWith("initialize failed"))).toBe(
				true,
			);
			expect(s.flags["max-items"]?.errorCode).toBe("PROVIDER_NOT_READY");
			await page.close();
		} finally {
			await other.close();
		}
	});
});
