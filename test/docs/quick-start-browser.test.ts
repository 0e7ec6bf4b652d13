/**
 * Follows docs/quick-start-browser.md in Debian's Chromium: runs its `npm start` block and its esbuild block (the
 * real commands, as child processes), opens the documented URL, checks what the page shows against the page's
 * tables, types the documented e-mail address and presses "Set context". Changes to what a reader types: the
 * daemon gets FLAGD_*_PORT=0, esbuild `--serve=127.0.0.1:0`, and the URL the ports they picked.
 * Under CI=true a missing Chromium fails this suite instead of skipping it (test/support/chromium.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser, Page } from "playwright-core";
import { browserTestsEnabled, launchChromium } from "../support/chromium.js";
import { DocPage, substitute } from "./doc-blocks.js";
import {
	FREE_PORTS_ENV,
	type ServicePorts,
	waitForDaemon,
} from "./doc-daemon.js";
import { type Settled, settled, unwrap } from "./settled.js";
import { ShellProcess } from "./shell-process.js";

const page = new DocPage("quick-start-browser.md");
const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

/** A `flag | value | …` text table of the page, as rows of trimmed cells (header included). */
function tableRows(text: string): string[][] {
	return text
		.trim()
		.split("\n")
		.map((line) => line.split("|").map((cell) => cell.trim()));
}

/** The flags table as the browser shows it: header and body rows, cell texts trimmed. */
function shownTable(tab: Page): Promise<string[][]> {
	return tab.$$eval("table tr", (rows) =>
		rows.map((row) =>
			[...row.querySelectorAll("th, td")].map((cell) =>
				(cell.textContent ?? "").trim(),
			),
		),
	);
}

describeBrowser("docs/quick-start-browser.md", () => {
	let daemon: ShellProcess | undefined;
	let esbuild: ShellProcess | undefined;
	let browser: Browser | undefined;
	let launching: Promise<Settled<Browser>>;
	let tab: Page;
	let ports: ServicePorts;
	let sitePort = 0;
	const pageErrors: string[] = [];

	// Chromium starts while the first steps run.
	beforeAll(() => {
		launching = settled(launchChromium());
	});

	afterAll(async () => {
		const launched = await launching;
		if (launched.ok) await launched.value.close();
		await esbuild?.stop();
		await daemon?.stop();
	});

	it("step 2: `npm start` runs the daemon", async () => {
		daemon = new ShellProcess(page.run("npm-start"), { env: FREE_PORTS_ENV });
		ports = await waitForDaemon(daemon);
	});

	it("step 3: esbuild bundles and serves the example page", async () => {
		const script = substitute(page.run("serve-page"), {
			"--serve=127.0.0.1:8080": "--serve=127.0.0.1:0",
		});
		esbuild = new ShellProcess(script, { keepStdinOpen: true });
		const [, port] = await esbuild.waitFor(
			/Local:\s+http:\/\/127\.0\.0\.1:(\d+)\//,
		);
		sitePort = Number(port);
		// esbuild serves before it has built; a failed build would show up as an error here.
		const response = await fetch(`http://127.0.0.1:${sitePort}/main.js`);
		expect(response.status).toBe(200);
		expect(await response.text()).toContain("FlagdWebProvider");
		expect(esbuild.stderr).not.toMatch(/ERROR/);
	});

	it("step 4: the page turns READY and shows the documented flags", async () => {
		browser = await unwrap(launching);
		page.excerpt("docs/examples/web/main.ts");
		const url = substitute(page.step("open-page").trim(), {
			"8080": String(sitePort),
			"8013": String(ports.evaluation),
		});
		tab = await browser.newPage();
		tab.on("pageerror", (e) => pageErrors.push(e.message));
		await tab.goto(url);
		await tab.waitForFunction(
			() => document.getElementById("status")?.textContent === "READY",
			undefined,
			{ timeout: 10_000, polling: 50 },
		);
		expect(await shownTable(tab)).toEqual(
			tableRows(page.output("flags-empty-context")),
		);
		expect(await tab.isVisible("#banner")).toBe(false);
	});

	it("step 5: a new context shows the banner and the documented flags", async () => {
		await tab.fill("#email", "me@example.com");
		await tab.click("button[type=submit]");
		await tab.waitForSelector("#banner", { state: "visible", timeout: 10_000 });
		expect(await tab.textContent("#banner")).toContain("Welcome!");
		expect(await shownTable(tab)).toEqual(
			tableRows(page.output("flags-user-context")),
		);
		const events = await tab.$$eval("#events li", (items) =>
			items.map((i) => i.textContent ?? ""),
		);
		const reconciling = events.findIndex((e) =>
			e.endsWith("PROVIDER_RECONCILING"),
		);
		const changed = events.findIndex((e) =>
			e.endsWith("PROVIDER_CONTEXT_CHANGED"),
		);
		expect(reconciling).toBeGreaterThanOrEqual(0);
		expect(changed).toBeGreaterThan(reconciling);
		expect(pageErrors).toEqual([]);
		await tab.close();
	});

	it("step 6: Ctrl+C stops both", async () => {
		const served = await esbuild?.stop("SIGINT");
		const stopped = await daemon?.stop("SIGINT");
		expect(stopped?.stdout).toMatch(/flagd exiting\s+exitCode=0/);
		expect(served?.signal ?? served?.code).toBeDefined();
		expect(esbuild?.running).toBe(false);
	});

	it("ran or compared every block of the page", () => {
		expect(page.unused()).toEqual([]);
	});
});
