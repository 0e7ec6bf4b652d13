/**
 * Flag keys, object value keys and metadata keys named `__proto__` and `constructor` in Chromium: the web provider
 * (flagd mode, bundled with esbuild) on a page of one 127.0.0.1 origin reads them from the real daemon on another
 * (CORS restricted to the page; the binary Connect format, `application/proto`, passes the preflight), sees a
 * change of the flag keyed `__proto__` arrive, and `Object.prototype` stays clean.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
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
const describeBrowser = browserTestsEnabled() ? describe : describe.skip;

/** JSON text: an object literal would turn `__proto__` into a prototype before the test begins. */
function flagDocument(protoOn: boolean): string {
	return `{
		"flags": {
			"__proto__": {
				"state": "ENABLED",
				"variants": { "on": true, "off": false },
				"defaultVariant": "${protoOn ? "on" : "off"}",
				"metadata": { "__proto__": "meta-proto", "constructor": "meta-ctor" }
			},
			"constructor": { "state": "ENABLED", "variants": { "a": "ctor-a" }, "defaultVariant": "a" },
			"object-flag": {
				"state": "ENABLED",
				"variants": {
					"v": {
						"__proto__": { "polluted": true },
						"constructor": { "prototype": { "polluted": true } },
						"plain": 1
					}
				},
				"defaultVariant": "v"
			}
		}
	}`;
}

interface PageState {
	status: string;
	events: string[];
	protoFlag: { value: boolean; errorCode: string | null };
	protoMetadataKeys: string[];
	protoMetadataProto: unknown;
	constructorFlag: string;
	objectKeys: string[];
	objectProtoValue: unknown;
	objectHasPlainPrototype: boolean;
	polluted: boolean;
}

async function bundlePage(): Promise<string> {
	const result = await build({
		entryPoints: [path.join(__dirname, "fixtures/proto-key-page.ts")],
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

function waitForState(page: Page, predicate: string): Promise<unknown> {
	return page.waitForFunction(
		`(() => { const s = window.protoKeys && window.protoKeys.state(); return !!s && (${predicate}); })()`,
		undefined,
		{ timeout: 20_000, polling: 50 },
	);
}

function state(page: Page): Promise<PageState> {
	return page.evaluate(() =>
		(
			window as unknown as { protoKeys: { state(): PageState } }
		).protoKeys.state(),
	);
}

describeBrowser(
	"web provider in Chromium: __proto__ and constructor keys",
	() => {
		let browser: Browser;
		let site: StaticServer;
		let daemon: RunningDaemon;
		let dir: string;
		let flagFile: string;

		beforeAll(async () => {
			dir = mkdtempSync(path.join(os.tmpdir(), "proto-key-browser-"));
			flagFile = path.join(dir, "flags.json");
			writeFileSync(flagFile, flagDocument(false));
			site = await startStaticServer({
				files: {
					"/index.html":
						'<!doctype html><meta charset="utf-8"><title>proto keys</title><script type="module" src="/main.js"></script>',
					"/main.js": await bundlePage(),
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

		it("reads every such key, follows a change of the flag keyed __proto__, and pollutes nothing", async () => {
			const page = await browser.newPage();
			const problems: string[] = [];
			page.on("pageerror", (e) => problems.push(e.message));
			try {
				await page.goto(
					`${site.origin}/index.html?port=${daemon.ports.evaluation}`,
				);
				await waitForState(page, "s.status === 'READY'");
				expect(await state(page)).toMatchObject({
					protoFlag: { value: false, errorCode: null },
					protoMetadataKeys: ["__proto__", "constructor"],
					protoMetadataProto: "meta-proto",
					constructorFlag: "ctor-a",
					objectKeys: ["__proto__", "constructor", "plain"],
					objectProtoValue: { polluted: true },
					objectHasPlainPrototype: true,
					polluted: false,
				});
				await writeFile(`${flagFile}.tmp`, flagDocument(true));
				await rename(`${flagFile}.tmp`, flagFile);
				await waitForState(page, "s.protoFlag.value === true");
				const after = await state(page);
				expect(after.events).toContain("changed [__proto__]");
				expect(after.polluted).toBe(false);
				expect(problems).toEqual([]);
			} finally {
				await page.close();
			}
		});
	},
);
