/**
 * The React example (docs/examples/react-ofrep: @openfeature/react-sdk + OfrepWebProvider, bundled with esbuild)
 * in Debian's Chromium against the real daemon's OFREP port from another origin: it renders the flags, and a flag
 * file edit re-renders the page through the daemon's event stream without a reload.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { build, stop as stopEsbuild } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { browserTestsEnabled, launchChromium } from "../support/chromium.js";
import {
	type StaticServer,
	startStaticServer,
} from "../support/static-server.js";
import { workspaceSourcesPlugin } from "./fixtures/workspace-sources-plugin.js";

const ROOT = path.resolve(__dirname, "../..");
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

async function bundleExample(): Promise<string> {
	const result = await build({
		entryPoints: [path.join(EXAMPLE, "main.tsx")],
		bundle: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		jsx: "automatic",
		define: { "process.env.NODE_ENV": '"production"' },
		write: false,
		plugins: [workspaceSourcesPlugin(ROOT)],
		logLevel: "error",
	});
	const file = result.outputFiles[0];
	if (file === undefined) throw new Error("esbuild produced no output");
	return file.text;
}

const text = (page: Page, selector: string) =>
	page.locator(selector).textContent();

describeBrowser("React example over OFREP in Chromium", () => {
	let browser: Browser;
	let site: StaticServer;
	let daemon: RunningDaemon | undefined;
	let dir: string;
	let flagFile: string;

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "react-ofrep-"));
		flagFile = path.join(dir, "flags.json");
		writeFileSync(flagFile, flagDocument("small"));
		site = await startStaticServer({
			files: {
				"/index.html": readFileSync(path.join(EXAMPLE, "index.html"), "utf8"),
				"/main.js": await bundleExample(),
			},
		});
		daemon = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				syncPort: 0,
				ofrepPort: 0,
				bindAddress: "127.0.0.1",
				sources: [{ uri: flagFile, provider: "file" }],
				corsOrigins: [site.origin],
			}),
		);
		await daemon.ready;
		browser = await launchChromium();
	});

	afterAll(async () => {
		await browser?.close();
		await daemon?.close();
		await site?.close();
		rmSync(dir, { recursive: true, force: true });
		await stopEsbuild();
	});

	it("renders the flags and re-renders on a flag file change without reloading", async () => {
		const page = await browser.newPage();
		const problems: string[] = [];
		page.on("pageerror", (e) => problems.push(e.message));
		let loads = 0;
		page.on("load", () => loads++);
		const baseUrl = `http://127.0.0.1:${daemon?.ports.ofrep}`;
		const streamOpened = page.waitForRequest((r) =>
			r.url().startsWith(`${baseUrl}/ofrep/v1/sse`),
		);
		await page.goto(
			`${site.origin}/index.html?${new URLSearchParams({ baseUrl })}`,
		);
		await page.locator("#max-items").waitFor({ timeout: 20_000 });
		expect(await text(page, "#max-items")).toBe("10");
		expect(await text(page, "#status")).toBe("READY");
		// show-welcome-banner targets @example.com addresses; the page's context has one.
		expect(await page.locator("#banner").count()).toBe(1);
		expect(await text(page, "#header-color")).toMatch(/^#[0-9a-f]{6}$/);
		await streamOpened;

		writeFileSync(flagFile, flagDocument("large"));
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
