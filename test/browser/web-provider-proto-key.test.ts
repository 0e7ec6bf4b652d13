/**
 * Flag keys, object value keys and metadata keys named `__proto__` and `constructor` in Chromium: the web provider
 * (flagd mode, bundled with esbuild) on a page of one 127.0.0.1 origin reads them from the real daemon on another
 * (CORS restricted to the page; the binary Connect format, `application/proto`, passes the preflight), sees a
 * change of the flag keyed `__proto__` arrive, and `Object.prototype` stays clean.
 * Under CI=true a missing Chromium fails this suite instead of skipping it.
 */
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { browserTestsEnabled } from "../support/chromium.js";
import {
	type BrowserDaemonFixture,
	startBrowserDaemonFixture,
} from "./support/browser-daemon-fixture.js";
import { pageState, waitForPageState } from "./support/page-state.js";

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

const waitForState = (page: Page, predicate: string) =>
	waitForPageState(page, "protoKeys", predicate, 20_000);
const state = (page: Page) => pageState<PageState>(page, "protoKeys");

describeBrowser(
	"web provider in Chromium: __proto__ and constructor keys",
	() => {
		let fx: BrowserDaemonFixture;

		beforeAll(async () => {
			fx = await startBrowserDaemonFixture({
				name: "proto-key-browser",
				flags: flagDocument(false),
				entry: path.join(__dirname, "fixtures/proto-key-page.ts"),
				html: '<!doctype html><meta charset="utf-8"><title>proto keys</title><script type="module" src="/main.js"></script>',
			});
		});

		afterAll(async () => {
			await fx?.close();
		});

		it("reads every such key, follows a change of the flag keyed __proto__, and pollutes nothing", async () => {
			const { page, problems } = await fx.openPage();
			try {
				await page.goto(
					`${fx.site.origin}/index.html?port=${fx.evaluationPort}`,
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
				await writeFile(`${fx.flagFile}.tmp`, flagDocument(true));
				await rename(`${fx.flagFile}.tmp`, fx.flagFile);
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
