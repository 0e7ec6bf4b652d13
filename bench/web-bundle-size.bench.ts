/**
 * Bundle size of the browser provider against @openfeature/flagd-web-provider 0.7.4: each entry is bundled with
 * esbuild (--bundle --minify --format=esm, browser platform) and compressed with gzip -9. "with web-sdk" bundles
 * the app's view (provider + @openfeature/web-sdk); "alone" keeps @openfeature/* external. The provider's share
 * is (provider + web-sdk) − (web-sdk alone), the figure the 12 KB budget applies to. The OFREP mode
 * (`@flagd-ts/web-provider/ofrep`, and the same class from the main entry to show tree-shaking drops Connect) is
 * measured beside @openfeature/ofrep-web-provider 0.4.3 against an 8 KB budget.
 *
 * Usage: `npm run bench -- web-bundle-size` (writes <out>/web-bundle-size.{json,md}); prints a table either way.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { ResolveAllResponseSchema } from "@flagd-ts/protocol/evaluation-v1";
import { build } from "esbuild";
import { workspaceSourcesPlugin } from "../test/browser/fixtures/workspace-sources-plugin.js";

const ROOT = process.cwd();
const BUDGET_BYTES = 12 * 1024;
/** Budget of the OFREP mode (`@flagd-ts/web-provider/ofrep`). */
const OFREP_BUDGET_BYTES = 8 * 1024;

interface Entry {
	readonly name: string;
	readonly code: string;
	readonly external: readonly string[];
}

interface Measured {
	readonly name: string;
	readonly minifiedBytes: number;
	readonly gzipBytes: number;
}

const SDK_PACKAGES = ["@openfeature/web-sdk", "@openfeature/core"];
const SDK = 'export { OpenFeature } from "@openfeature/web-sdk";';
const OURS = 'export { FlagdWebProvider } from "@flagd-ts/web-provider";';
const PEER =
	'export { FlagdWebProvider } from "@openfeature/flagd-web-provider";';
const OURS_OFREP =
	'export { OfrepWebProvider } from "@flagd-ts/web-provider/ofrep";';
const OURS_OFREP_MAIN =
	'export { OfrepWebProvider } from "@flagd-ts/web-provider";';
const PEER_OFREP =
	'export { OFREPWebProvider } from "@openfeature/ofrep-web-provider";';
const OURS_CONNECT =
	'export { FlagdWebProvider, fromConnectTransport } from "@flagd-ts/web-provider"; export { createConnectTransport } from "@connectrpc/connect-web";';

export const ENTRIES: readonly Entry[] = [
	{ name: "web-sdk alone", code: SDK, external: [] },
	{ name: "ours + web-sdk", code: `${OURS}\n${SDK}`, external: [] },
	{ name: "peer + web-sdk", code: `${PEER}\n${SDK}`, external: [] },
	{ name: "ours alone (web-sdk external)", code: OURS, external: SDK_PACKAGES },
	{ name: "peer alone (web-sdk external)", code: PEER, external: SDK_PACKAGES },
	{ name: "ours OFREP + web-sdk", code: `${OURS_OFREP}\n${SDK}`, external: [] },
	{
		name: "ours OFREP via main entry + web-sdk",
		code: `${OURS_OFREP_MAIN}\n${SDK}`,
		external: [],
	},
	{ name: "peer OFREP + web-sdk", code: `${PEER_OFREP}\n${SDK}`, external: [] },
	{
		name: "ours OFREP alone (web-sdk external)",
		code: OURS_OFREP,
		external: SDK_PACKAGES,
	},
	{
		name: "peer OFREP alone (web-sdk external)",
		code: PEER_OFREP,
		external: SDK_PACKAGES,
	},
	{
		name: "ours + connect-web adapter (optional)",
		code: OURS_CONNECT,
		external: SDK_PACKAGES,
	},
];

/** Bundles and measures one entry. */
export async function measure(entry: Entry): Promise<Measured> {
	const result = await build({
		stdin: { contents: entry.code, resolveDir: ROOT, loader: "ts" },
		bundle: true,
		minify: true,
		format: "esm",
		platform: "browser",
		target: "es2020",
		write: false,
		external: [...entry.external],
		plugins: [workspaceSourcesPlugin(ROOT)],
		logLevel: "error",
	});
	const bytes = result.outputFiles[0]?.contents ?? new Uint8Array();
	return {
		name: entry.name,
		minifiedBytes: bytes.length,
		gzipBytes: gzipSync(bytes, { level: 9 }).length,
	};
}

function table(
	rows: readonly Measured[],
	shares: Record<string, number>,
): string {
	const lines = [
		"| bundle | minified (B) | min+gzip -9 (B) |",
		"|---|---:|---:|",
		...rows.map((r) => `| ${r.name} | ${r.minifiedBytes} | ${r.gzipBytes} |`),
		"",
		"| provider's share (with web-sdk − web-sdk alone) | min+gzip (B) |",
		"|---|---:|",
		...Object.entries(shares).map(([k, v]) => `| ${k} | ${v} |`),
		"",
		`budget: ${BUDGET_BYTES} B min+gzip for ours → ${(shares.ours ?? Number.POSITIVE_INFINITY) <= BUDGET_BYTES ? "met" : "NOT met"}`,
		`budget: ${OFREP_BUDGET_BYTES} B min+gzip for ours OFREP → ${(shares["ours OFREP"] ?? Number.POSITIVE_INFINITY) <= OFREP_BUDGET_BYTES ? "met" : "NOT met"}`,
	];
	return lines.join("\n");
}

/** One wire-size comparison: a ResolveAll response in Connect JSON (as flagd renders it) and in binary. */
interface WireSize {
	readonly name: string;
	readonly jsonBytes: number;
	readonly jsonGzipBytes: number;
	readonly binaryBytes: number;
	readonly binaryGzipBytes: number;
}

/** A ResolveAll response with `count` flags cycling through the four value kinds, each with flag metadata. */
function resolveAllResponse(count: number) {
	const flags: Record<string, unknown> = {};
	for (let i = 0; i < count; i++) {
		const kinds = [
			{ case: "boolValue", value: i % 2 === 0 },
			{ case: "stringValue", value: `variant-value-${i}` },
			{ case: "doubleValue", value: i * 10 },
			{
				case: "objectValue",
				value: { limit: i, tags: ["a", "b"], enabled: true },
			},
		] as const;
		flags[`feature-flag-${i}`] = {
			reason: i % 3 === 0 ? "TARGETING_MATCH" : "STATIC",
			variant: `v${i % 4}`,
			value: kinds[i % 4],
			metadata: { flagSetId: "web-app", owner: "team-checkout" },
		};
	}
	return create(ResolveAllResponseSchema, {
		flags: flags as never,
		metadata: { flagSetId: "web-app" },
	});
}

/** Wire bytes per encoding; gzip because browsers always offer it and connect-node compresses unary responses. */
export function wireSizes(): WireSize[] {
	return [5, 50, 500].map((count) => {
		const message = resolveAllResponse(count);
		const json = Buffer.from(
			toJsonString(ResolveAllResponseSchema, message, {
				alwaysEmitImplicit: true,
			}),
		);
		const binary = toBinary(ResolveAllResponseSchema, message);
		return {
			name: `ResolveAll, ${count} flags`,
			jsonBytes: json.length,
			jsonGzipBytes: gzipSync(json).length,
			binaryBytes: binary.length,
			binaryGzipBytes: gzipSync(binary).length,
		};
	});
}

function wireTable(rows: readonly WireSize[]): string {
	return [
		"| response | JSON (B) | JSON gzip (B) | binary (B) | binary gzip (B) |",
		"|---|---:|---:|---:|---:|",
		...rows.map(
			(r) =>
				`| ${r.name} | ${r.jsonBytes} | ${r.jsonGzipBytes} | ${r.binaryBytes} | ${r.binaryGzipBytes} |`,
		),
	].join("\n");
}

async function main(): Promise<void> {
	const rows: Measured[] = [];
	for (const entry of ENTRIES) rows.push(await measure(entry));
	const gz = (name: string): number =>
		rows.find((r) => r.name === name)?.gzipBytes ?? Number.NaN;
	const shares = {
		ours: gz("ours + web-sdk") - gz("web-sdk alone"),
		peer: gz("peer + web-sdk") - gz("web-sdk alone"),
		"ours OFREP": gz("ours OFREP + web-sdk") - gz("web-sdk alone"),
		"ours OFREP via main entry":
			gz("ours OFREP via main entry + web-sdk") - gz("web-sdk alone"),
		"peer OFREP": gz("peer OFREP + web-sdk") - gz("web-sdk alone"),
	};
	const wire = wireSizes();
	const text = `${table(rows, shares)}\n\n${wireTable(wire)}`;
	process.stdout.write(`${text}\n`);
	const outIndex = process.argv.indexOf("--out");
	const outDir = outIndex >= 0 ? process.argv[outIndex + 1] : undefined;
	if (outDir !== undefined) {
		mkdirSync(outDir, { recursive: true });
		writeFileSync(
			path.join(outDir, "web-bundle-size.json"),
			`${JSON.stringify({ budgetBytes: BUDGET_BYTES, ofrepBudgetBytes: OFREP_BUDGET_BYTES, rows, shares, wire }, null, 2)}\n`,
		);
		writeFileSync(
			path.join(outDir, "web-bundle-size.md"),
			`# Web provider bundle size\n\n${text}\n`,
		);
	}
}

await main();
