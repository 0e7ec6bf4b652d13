/**
 * Guards the browser bundle budget: the provider's share over @openfeature/web-sdk, min+gzip. The provider speaks
 * Connect through @connectrpc/connect-web and the protobuf-es generated code of @flagd-ts/protocol; that stack
 * measured 36,634 B (`npm run bench -- web-bundle-size`), so the budget is 40 KiB: room for small changes, not
 * for a second copy of a runtime. The full table, with the peer provider for comparison, comes from the bench.
 */
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "@jest/globals";
import { build, stop as stopEsbuild } from "esbuild";
import { workspaceSourcesPlugin } from "./fixtures/workspace-sources-plugin.js";

const ROOT = path.resolve(__dirname, "../..");
const BUDGET_BYTES = 40 * 1024;

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
		// The wire is connect-web's Connect protocol client ...
		expect(withProvider.text).toContain("Connect-Protocol-Version");
		// ... and connect's gRPC-web protocol, which the provider does not use, is tree-shaken away.
		expect(withProvider.text).not.toContain("application/grpc-web");
	});

	it("includes gRPC-web only when an app plugs in connect-web's gRPC-web transport (control for the check above)", async () => {
		const withGrpcWeb = await bundle(
			'export { fromConnectTransport } from "@flagd-ts/web-provider"; export { createGrpcWebTransport } from "@connectrpc/connect-web";',
		);
		expect(withGrpcWeb.text).toContain("application/grpc-web");
	});
});
