/**
 * The example page (docs/examples/web, bundled with esbuild at test time) in Debian's Chromium: served from one
 * 127.0.0.1 port, talking to the real daemon on another (CORS restricted to the page's origin, selector header
 * included). It evaluates flags, changes context, sees a flag file edit arrive as CONFIGURATION_CHANGED and
 * survives a daemon restart on the same port. Writes test-artifacts/web-provider-example.png.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import {
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
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

async function bundleExample(): Promise<string> {
	const result = await build({
		entryPoints: [path.join(EXAMPLE, "main.ts")],
		bundle: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		plugins: [workspaceSourcesPlugin(ROOT)],
		logLevel: "error",
	});
	const file = result.outputFiles[0];
	if (file === undefined) throw new Error("esbuild produced no output");
	return file.text;
}

function state(page: Page): Promise<PageState> {
	return page.evaluate(() =>
		(
			window as unknown as { flagdExample: { state(): PageState } }
		).flagdExample.state(),
	);
}

async function waitForState(
	page: Page,
	predicate: string,
	timeoutMs = 10_000,
): Promise<void> {
	await page.waitForFunction(
		`(() => { const s = window.flagdExample && window.flagdExample.state(); return !!s && (${predicate}); })()`,
		undefined,
		{ timeout: timeoutMs, polling: 50 },
	);
}

describeBrowser("web provider in Chromium (example page)", () => {
	let browser: Browser;
	let site: StaticServer;
	let daemon: RunningDaemon | undefined;
	let dir: string;
	let flagFile: string;
	let port = 0;

	async function start(): Promise<RunningDaemon> {
		const started = await startDaemon(
			defaultDaemonConfig({
				port,
				managementPort: 0,
				syncPort: 0,
				ofrepPort: 0,
				bindAddress: "127.0.0.1",
				sources: [{ uri: flagFile, provider: "file" }],
				corsOrigins: [site.origin],
			}),
		);
		await started.ready;
		port = started.ports.evaluation ?? 0;
		return started;
	}

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "web-provider-browser-"));
		flagFile = path.join(dir, "flags.json");
		writeFileSync(
			flagFile,
			readFileSync(path.join(ROOT, "docs/examples/flags.json")),
		);
		site = await startStaticServer({
			files: {
				"/index.html": readFileSync(path.join(EXAMPLE, "index.html"), "utf8"),
				"/main.js": await bundleExample(),
			},
		});
		daemon = await start();
		browser = await launchChromium();
	});

	afterAll(async () => {
		await browser?.close();
		await daemon?.close();
		await site?.close();
		rmSync(dir, { recursive: true, force: true });
		// esbuild's JS API keeps a service child process; stop it so Jest (in-band on 2 cores) can exit.
		await stopEsbuild();
	});

	it("evaluates, changes context, receives a file change and survives a daemon restart", async () => {
		const page = await browser.newPage();
		const problems: string[] = [];
		page.on("pageerror", (e) => problems.push(e.message));
		const query = new URLSearchParams({
			host: "127.0.0.1",
			port: String(port),
			selector: "flagSetId=example",
		});
		await page.goto(`${site.origin}/index.html?${query}`);

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

		const document = JSON.parse(readFileSync(flagFile, "utf8")) as {
			flags: Record<string, { defaultVariant: string }>;
		};
		const maxItems = document.flags["max-items"];
		if (maxItems === undefined) throw new Error("fixture lost max-items");
		maxItems.defaultVariant = "large";
		writeFileSync(flagFile, JSON.stringify(document));
		await waitForState(
			page,
			's.events.some((e) => e.endsWith("PROVIDER_CONFIGURATION_CHANGED [max-items]"))',
		);
		expect((await state(page)).flags["max-items"]?.value).toBe(100);

		await daemon?.close();
		daemon = undefined;
		await waitForState(page, 's.status === "STALE" || s.status === "ERROR"');
		expect((await state(page)).flags["max-items"]).toMatchObject({
			value: 100,
			reason: "STALE",
		});
		daemon = await start();
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
		const other = await startStaticServer({
			files: {
				"/index.html": readFileSync(path.join(EXAMPLE, "index.html"), "utf8"),
				"/main.js": await bundleExample(),
			},
		});
		try {
			const page = await browser.newPage();
			await page.goto(
				`${other.origin}/index.html?host=127.0.0.1&port=${port}&deadlineMs=500`,
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
