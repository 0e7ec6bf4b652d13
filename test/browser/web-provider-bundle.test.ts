/**
 * Guards the browser bundle budget (issue: ≤ 12 KB min+gzip for the provider's share over @openfeature/web-sdk)
 * and that the optional connect-es adapter is tree-shaken away when unused. The full table, with the peer
 * provider for comparison, comes from `npm run bench -- web-bundle-size`.
 */
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "@jest/globals";
import { build, stop as stopEsbuild } from "esbuild";
import { workspaceSourcesPlugin } from "./fixtures/workspace-sources-plugin.js";

const ROOT = path.resolve(__dirname, "../..");
const BUDGET_BYTES = 12 * 1024;

async function bundle(
	code: string,
): Promise<{ text: string; gzipBytes: number }> {
	const result = await build({
		stdin: { contents: code, resolveDir: ROOT, loader: "ts" },
		bundle: true,
		minify: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		plugins: [workspaceSourcesPlugin(ROOT)],
		logLevel: "error",
	});
	const bytes = result.outputFiles[0]?.contents ?? new Uint8Array();
	return {
		text: new TextDecoder().decode(bytes),
		gzipBytes: gzipSync(bytes, { level: 9 }).length,
	};
}

describe("web provider bundle", () => {
	// esbuild's JS API keeps a service child process; stop it so Jest (in-band on 2 cores) can exit.
	afterAll(async () => {
		await stopEsbuild();
	});

	it(`adds at most ${BUDGET_BYTES} bytes min+gzip to an app that uses @openfeature/web-sdk`, async () => {
		const sdk = await bundle(
			'export { OpenFeature } from "@openfeature/web-sdk";',
		);
		const withProvider = await bundle(
			'export { OpenFeature } from "@openfeature/web-sdk"; export { FlagdWebProvider } from "@flagd-ts/web-provider";',
		);
		const share = withProvider.gzipBytes - sdk.gzipBytes;
		expect(share).toBeGreaterThan(1_000);
		expect(share).toBeLessThanOrEqual(BUDGET_BYTES);
		// No protobuf runtime or connect client in the default path.
		expect(withProvider.text).not.toContain("google.protobuf");
		expect(withProvider.text).not.toContain("ConnectError");
	});

	it("includes the protobuf runtime only when fromConnectTransport is used (control for the check above)", async () => {
		const withAdapter = await bundle(
			'export { fromConnectTransport } from "@flagd-ts/web-provider";',
		);
		expect(withAdapter.text).toContain("google.protobuf");
		expect(withAdapter.text).toContain("ConnectError");
	});
});
