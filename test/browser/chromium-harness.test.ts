/**
 * Checks the browser-test harness itself: Debian's Chromium starts through playwright-core, loads a page from one
 * local origin and calls a server on another origin that answers CORS, the way the web-provider tests do.
 * Under CI=true a missing Chromium fails this test instead of skipping it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser } from "playwright-core";
import { browserTestsEnabled, launchChromium } from "../support/chromium.js";
import {
	type StaticServer,
	startStaticServer,
} from "../support/static-server.js";

const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

describeBrowser("Chromium harness", () => {
	let browser: Browser;
	let page: StaticServer;
	const api = createServer((req, res) => {
		res.setHeader("access-control-allow-origin", req.headers.origin ?? "*");
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify({ seen: req.headers.origin ?? null }));
	});
	let apiOrigin = "";

	beforeAll(async () => {
		await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
		apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
		page = await startStaticServer({
			files: {
				"/index.html":
					"<!doctype html><title>harness</title><p id=out>waiting</p>",
			},
		});
		browser = await launchChromium();
	});

	afterAll(async () => {
		await browser?.close();
		await page?.close();
		api.closeAllConnections();
		await new Promise<void>((resolve) => api.close(() => resolve()));
	});

	it("loads a local page that fetches from another origin with CORS", async () => {
		const tab = await browser.newPage();
		await tab.goto(`${page.origin}/index.html`);
		const body = await tab.evaluate(async (url) => {
			const res = await fetch(url);
			return (await res.json()) as { seen: string | null };
		}, `${apiOrigin}/probe`);
		expect(body.seen).toBe(page.origin);
		await tab.close();
	});
});
