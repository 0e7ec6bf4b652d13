/**
 * The React example (docs/examples/react-ofrep: @openfeature/react-sdk + OfrepWebProvider, bundled with esbuild)
 * in Debian's Chromium against the real daemon's OFREP port from another origin: it renders the flags, and a flag
 * file edit re-renders the page through the daemon's event stream without a reload.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { browserTestsEnabled } from "../support/chromium.js";
import {
	type BrowserDaemonFixture,
	REPO_ROOT as ROOT,
	startBrowserDaemonFixture,
} from "./support/browser-daemon-fixture.js";

const EXAMPLE = path.join(ROOT, "docs/examples/react-ofrep");
const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

/** The example flag file with `max-items` set to `variant`. */
function flagDocument(variant: "small" | "large"): string {
	const doc = JSON.parse(
		readFileSync(path.join(ROOT, "docs/examples/flags.json"), "utf8"),
	) as { flags: Record<string, { defaultVariant: string }> };
	const maxItems = doc.flags["max-items"];
	if (maxItems === undefined) throw new Error("flags.json has no max-items");
	maxItems.defaultVariant = variant;
	return JSON.stringify(doc);
}

const text = (page: Page, selector: string) =>
	page.locator(selector).textContent();

describeBrowser("React example over OFREP in Chromium", () => {
	let fx: BrowserDaemonFixture;

	beforeAll(async () => {
		fx = await startBrowserDaemonFixture({
			name: "react-ofrep",
			flags: flagDocument("small"),
			entry: path.join(EXAMPLE, "main.tsx"),
			html: readFileSync(path.join(EXAMPLE, "index.html"), "utf8"),
			buildOptions: {
				jsx: "automatic",
				define: { "process.env.NODE_ENV": '"production"' },
			},
		});
	});

	afterAll(async () => {
		await fx?.close();
	});

	it("renders the flags and re-renders on a flag file change without reloading", async () => {
		const { page, problems } = await fx.openPage();
		let loads = 0;
		page.on("load", () => loads++);
		const baseUrl = fx.ofrepBaseUrl;
		const streamOpened = page.waitForRequest((r) =>
			r.url().startsWith(`${baseUrl}/ofrep/v1/sse`),
		);
		await page.goto(
			`${fx.site.origin}/index.html?${new URLSearchParams({ baseUrl })}`,
		);
		await page.locator("#max-items").waitFor({ timeout: 20_000 });
		expect(await text(page, "#max-items")).toBe("10");
		expect(await text(page, "#status")).toBe("READY");
		// show-welcome-banner targets @example.com addresses; the page's context has one.
		expect(await page.locator("#banner").count()).toBe(1);
		expect(await text(page, "#header-color")).toMatch(/^#[0-9a-f]{6}$/);
		await streamOpened;

		fx.writeFlags(flagDocument("large"));
		await page.waitForFunction(
			() => document.querySelector("#max-items")?.textContent === "100",
			undefined,
			{ timeout: 20_000, polling: 50 },
		);
		expect(loads).toBe(1);
		expect(problems).toEqual([]);
		await page.close();
	}, 120_000);
});
