/**
 * Interop in Debian's Chromium: the published @openfeature/ofrep-web-provider (0.4, bundled with esbuild) against
 * our daemon's OFREP port, from another origin (CORS restricted to the page, `Flagd-Selector` header), polling off.
 * A flag file write reaches the page only through the advertised event stream: the provider re-fetches with the
 * event's etag, sees the new value, and gets 304 when the change does not alter its answer. After a daemon restart
 * (with a change made while it was down) the provider reconnects and catches up.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { build, stop as stopEsbuild } from "esbuild";
import type { Browser, Page, Request } from "playwright-core";
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

async function bundlePage(): Promise<string> {
	const result = await build({
		entryPoints: [path.join(__dirname, "fixtures/ofrep-web-page.ts")],
		bundle: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		logLevel: "error",
	});
	const file = result.outputFiles[0];
	if (file === undefined) throw new Error("esbuild produced no output");
	return file.text;
}

function waitForState(
	page: Page,
	predicate: string,
	timeoutMs = 15_000,
): Promise<unknown> {
	return page.waitForFunction(
		`(() => { const s = window.ofrepPage && window.ofrepPage.state(); return !!s && (${predicate}); })()`,
		undefined,
		{ timeout: timeoutMs, polling: 50 },
	);
}

function state(page: Page): Promise<PageState> {
	return page.evaluate(() =>
		(
			window as unknown as { ofrepPage: { state(): PageState } }
		).ofrepPage.state(),
	);
}

const isBulk = (r: Request) =>
	r.method() === "POST" &&
	new URL(r.url()).pathname === "/ofrep/v1/evaluate/flags";

describeBrowser("@openfeature/ofrep-web-provider in Chromium", () => {
	let browser: Browser;
	let site: StaticServer;
	let daemon: RunningDaemon | undefined;
	let dir: string;
	let flagFile: string;
	let ofrepPort = 0;

	async function start(): Promise<RunningDaemon> {
		const started = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				syncPort: 0,
				ofrepPort,
				bindAddress: "127.0.0.1",
				sources: [{ uri: flagFile, provider: "file" }],
				corsOrigins: [site.origin],
			}),
		);
		await started.ready;
		ofrepPort = started.ports.ofrep;
		return started;
	}

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "ofrep-web-browser-"));
		flagFile = path.join(dir, "flags.json");
		writeFileSync(flagFile, flagDocument("red"));
		site = await startStaticServer({
			files: {
				"/index.html":
					'<!doctype html><meta charset="utf-8"><title>ofrep</title><script type="module" src="/main.js"></script>',
				"/main.js": await bundlePage(),
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
		// esbuild's JS API keeps a service child process; stop it so Jest can exit.
		await stopEsbuild();
	});

	it("re-fetches on the daemon's change events, gets 304 when its answer is unchanged, and recovers after a restart", async () => {
		const page = await browser.newPage();
		const problems: string[] = [];
		page.on("pageerror", (e) => problems.push(e.message));
		const streamOpened = page.waitForRequest(
			(r) =>
				r.url() ===
				`http://127.0.0.1:${ofrepPort}/ofrep/v1/sse?selector=flagSetId%3Dweb`,
		);
		const query = new URLSearchParams({
			baseUrl: `http://127.0.0.1:${ofrepPort}`,
			selector: "flagSetId=web",
			keys: "color,other-color",
		});
		await page.goto(`${site.origin}/index.html?${query}`);
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
		writeFileSync(flagFile, flagDocument("blue"));
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
		writeFileSync(flagFile, flagDocument("blue", true));
		expect((await (await refetch).response())?.status()).toBe(304);

		// Restart, with a change made while the daemon is down.
		await daemon?.close();
		daemon = undefined;
		await waitForState(page, 's.events.includes("PROVIDER_STALE")');
		writeFileSync(flagFile, flagDocument("green"));
		daemon = await start();
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
