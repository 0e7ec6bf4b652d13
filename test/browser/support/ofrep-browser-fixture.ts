/**
 * What the OFREP browser tests share: a flag file in a temporary folder, the real daemon serving it on an OFREP
 * port (CORS open to the page's origin only, restartable on the same port), a page bundled by esbuild served from
 * another origin, and Debian's Chromium. `close()` releases all of it, esbuild's service process included.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BuildOptions, build, stop as stopEsbuild } from "esbuild";
import type { Browser, Request } from "playwright-core";
import { defaultDaemonConfig } from "../../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../../packages/daemon/src/runtime/start-daemon.js";
import {
	type LaunchChromiumOptions,
	launchChromium,
} from "../../support/chromium.js";
import {
	type StaticServer,
	startStaticServer,
} from "../../support/static-server.js";
import { workspaceSourcesPlugin } from "../fixtures/workspace-sources-plugin.js";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

export interface OfrepBrowserFixtureOptions {
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

export interface OfrepBrowserFixture {
	readonly browser: Browser;
	readonly site: StaticServer;
	readonly flagFile: string;
	/** The daemon's OFREP origin; stays the same across restarts. */
	readonly ofrepBaseUrl: string;
	/** The running daemon, or undefined between `stopDaemon()` and `startDaemon()`. */
	readonly daemon: RunningDaemon | undefined;
	writeFlags(content: string): void;
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

async function bundle(options: OfrepBrowserFixtureOptions): Promise<string> {
	const result = await build({
		entryPoints: [options.entry],
		bundle: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		plugins: [workspaceSourcesPlugin(REPO_ROOT)],
		logLevel: "error",
		...options.buildOptions,
	});
	const file = result.outputFiles[0];
	if (file === undefined) throw new Error("esbuild produced no output");
	return file.text;
}

export async function startOfrepBrowserFixture(
	options: OfrepBrowserFixtureOptions,
): Promise<OfrepBrowserFixture> {
	const dir = mkdtempSync(path.join(os.tmpdir(), `${options.name}-`));
	const flagFile = path.join(dir, "flags.json");
	writeFileSync(flagFile, options.flags);
	let site: StaticServer | undefined;
	let daemon: RunningDaemon | undefined;
	let browser: Browser | undefined;
	let ofrepPort = 0;

	const start = async (): Promise<void> => {
		const started = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				syncPort: 0,
				ofrepPort,
				bindAddress: "127.0.0.1",
				sources: [{ uri: flagFile, provider: "file" }],
				corsOrigins: site === undefined ? [] : [site.origin],
			}),
		);
		daemon = started;
		await started.ready;
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
		site = await startStaticServer({
			files: {
				"/index.html":
					options.html ??
					`<!doctype html><meta charset="utf-8"><title>${options.name}</title><script type="module" src="/main.js"></script>`,
				"/main.js": await bundle(options),
				...options.files,
			},
		});
		await start();
		browser = await launchChromium(options.launch);
	} catch (e: unknown) {
		await close();
		throw e;
	}
	const fixedSite = site;
	const fixedBrowser = browser;
	return {
		browser: fixedBrowser,
		site: fixedSite,
		flagFile,
		ofrepBaseUrl: `http://127.0.0.1:${ofrepPort}`,
		get daemon() {
			return daemon;
		},
		writeFlags: (content) => writeFileSync(flagFile, content),
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
