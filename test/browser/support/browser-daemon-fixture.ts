/**
 * What the browser tests share: a flag file in a temporary folder, the real daemon serving it (CORS open to the
 * page's origin only, restartable on the same evaluation and OFREP ports), a page bundled by esbuild served from
 * another origin, and Debian's Chromium. `close()` releases all of it, esbuild's service process included.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BuildOptions, build, stop as stopEsbuild } from "esbuild";
import type { Browser, Page, Request } from "playwright-core";
import {
	type RunningDaemon,
	startDaemon,
} from "../../../packages/daemon/src/runtime/start-daemon.js";
import {
	type LaunchChromiumOptions,
	launchChromium,
} from "../../support/chromium.js";
import { loopbackDaemonConfig } from "../../support/loopback-daemon-config.js";
import {
	type StaticServer,
	startStaticServer,
} from "../../support/static-server.js";
import { workspaceSourcesPlugin } from "../fixtures/workspace-sources-plugin.js";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

export interface BrowserDaemonFixtureOptions {
	/** Prefix of the temporary folder. */
	readonly name: string;
	/** The flag file's first content. */
	readonly flags: string;
	/** The page's entry module, bundled with our workspace packages resolved to their sources. */
	readonly entry: string;
	/** @default a page that loads /main.js as a module */
	readonly html?: string;
	/** More pages served beside it, by URL path. */
	readonly files?: Readonly<Record<string, string>>;
	/** Extra esbuild options (jsx, define). */
	readonly buildOptions?: Pick<BuildOptions, "jsx" | "define">;
	readonly launch?: LaunchChromiumOptions;
}

export interface BrowserDaemonFixture {
	readonly browser: Browser;
	readonly site: StaticServer;
	/** What the site serves, by URL path: to serve the same page from another origin. */
	readonly siteFiles: Readonly<Record<string, string>>;
	readonly flagFile: string;
	/** The daemon's evaluation port; stays the same across restarts. */
	readonly evaluationPort: number;
	/** The daemon's OFREP origin; stays the same across restarts. */
	readonly ofrepBaseUrl: string;
	/** The running daemon, or undefined between `stopDaemon()` and `startDaemon()`. */
	readonly daemon: RunningDaemon | undefined;
	writeFlags(content: string): void;
	/** A new page whose uncaught errors collect in `problems` (a test expects none). */
	openPage(): Promise<{ page: Page; problems: string[] }>;
	/**
	 * openPage() navigated to the site's index.html with `baseUrl` (the OFREP origin) and `query` as parameters.
	 * `streamOpened` settles when the page requests an event stream URL `isStream` accepts (default: any under the
	 * daemon's /ofrep/v1/sse); it is listened for before the navigation, so it cannot be missed.
	 */
	openOfrepPage(
		query: Readonly<Record<string, string>>,
		isStream?: (url: string) => boolean,
	): Promise<{
		page: Page;
		problems: string[];
		streamOpened: Promise<Request>;
	}>;
	/**
	 * Bulk evaluation responses the daemon has completed, by status code, read from its own request metrics
	 * (`http_server_request_duration_seconds_count` on the management port): what the server answered, whatever
	 * the browser's devtools report.
	 */
	bulkResponses(): Promise<Record<string, number>>;
	stopDaemon(): Promise<void>;
	/** Starts the daemon again on the same OFREP port. */
	startDaemon(): Promise<void>;
	close(): Promise<void>;
}

/** A bulk evaluation request (`POST /ofrep/v1/evaluate/flags`). */
export const isOfrepBulk = (r: Request): boolean =>
	r.method() === "POST" &&
	new URL(r.url()).pathname === "/ofrep/v1/evaluate/flags";

/** Sums `http_server_request_duration_seconds_count` of the bulk route by status code. */
function bulkCounts(metrics: string): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const line of metrics.split("\n")) {
		if (!line.startsWith("http_server_request_duration_seconds_count{")) {
			continue;
		}
		if (!line.includes('http_route="/ofrep/v1/evaluate/flags"')) continue;
		const status = /http_response_status_code="(\d+)"/.exec(line)?.[1];
		const value = Number(line.slice(line.lastIndexOf(" ") + 1));
		if (status === undefined || !Number.isFinite(value)) continue;
		counts[status] = (counts[status] ?? 0) + value;
	}
	return counts;
}

/** Bundles a page's entry module for the browser, our workspace packages resolved to their sources. */
export async function bundlePage(
	entry: string,
	buildOptions?: Pick<BuildOptions, "jsx" | "define">,
): Promise<string> {
	const result = await build({
		entryPoints: [entry],
		bundle: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		plugins: [workspaceSourcesPlugin(REPO_ROOT)],
		logLevel: "error",
		...buildOptions,
	});
	const file = result.outputFiles[0];
	if (file === undefined) throw new Error("esbuild produced no output");
	return file.text;
}

export async function startBrowserDaemonFixture(
	options: BrowserDaemonFixtureOptions,
): Promise<BrowserDaemonFixture> {
	const dir = mkdtempSync(path.join(os.tmpdir(), `${options.name}-`));
	const flagFile = path.join(dir, "flags.json");
	writeFileSync(flagFile, options.flags);
	let site: StaticServer | undefined;
	let daemon: RunningDaemon | undefined;
	let browser: Browser | undefined;
	let evaluationPort = 0;
	let ofrepPort = 0;
	let siteFiles: Record<string, string> = {};

	const start = async (): Promise<void> => {
		const started = await startDaemon(
			loopbackDaemonConfig({
				port: evaluationPort,
				ofrepPort,
				sources: [{ uri: flagFile, provider: "file" }],
				corsOrigins: site === undefined ? [] : [site.origin],
			}),
		);
		daemon = started;
		await started.ready;
		evaluationPort = started.ports.evaluation ?? 0;
		ofrepPort = started.ports.ofrep;
	};
	const close = async (): Promise<void> => {
		await browser?.close();
		await daemon?.close();
		daemon = undefined;
		await site?.close();
		rmSync(dir, { recursive: true, force: true });
		// esbuild's JS API keeps a service child process; stop it so Jest can exit.
		await stopEsbuild();
	};

	try {
		siteFiles = {
			"/index.html":
				options.html ??
				`<!doctype html><meta charset="utf-8"><title>${options.name}</title><script type="module" src="/main.js"></script>`,
			"/main.js": await bundlePage(options.entry, options.buildOptions),
			...options.files,
		};
		site = await startStaticServer({ files: siteFiles });
		await start();
		browser = await launchChromium(options.launch);
	} catch (e: unknown) {
		await close();
		throw e;
	}
	const fixedSite = site;
	const fixedBrowser = browser;
	const ofrepBaseUrl = `http://127.0.0.1:${ofrepPort}`;
	const openPage = async () => {
		const page = await fixedBrowser.newPage();
		const problems: string[] = [];
		page.on("pageerror", (e: Error) => problems.push(e.message));
		return { page, problems };
	};
	return {
		browser: fixedBrowser,
		site: fixedSite,
		siteFiles,
		flagFile,
		evaluationPort,
		ofrepBaseUrl,
		get daemon() {
			return daemon;
		},
		writeFlags: (content) => writeFileSync(flagFile, content),
		openPage,
		openOfrepPage: async (query, isStream) => {
			const { page, problems } = await openPage();
			const accepts =
				isStream ?? ((url) => url.startsWith(`${ofrepBaseUrl}/ofrep/v1/sse`));
			const streamOpened = page.waitForRequest((r) => accepts(r.url()));
			const search = new URLSearchParams({ baseUrl: ofrepBaseUrl, ...query });
			await page.goto(`${fixedSite.origin}/index.html?${search}`);
			return { page, problems, streamOpened };
		},
		bulkResponses: async () => {
			if (daemon === undefined) throw new Error("the daemon is stopped");
			const res = await fetch(
				`http://127.0.0.1:${daemon.ports.management}/metrics`,
			);
			return bulkCounts(await res.text());
		},
		stopDaemon: async () => {
			const running = daemon;
			daemon = undefined;
			await running?.close();
		},
		startDaemon: start,
		close,
	};
}
