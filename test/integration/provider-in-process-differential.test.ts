/**
 * Differential test: the in-process resolver (both evaluator modes) against the RPC resolver on the same daemon,
 * for random flag documents and random contexts. The daemon evaluates each RPC call; the in-process providers
 * evaluate the flag set they received on the sync stream. Value, variant, reason, error code and metadata must
 * be identical for every flag, type and context.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import {
	type Client,
	type EvaluationDetails,
	type JsonValue,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/server-sdk";
import fc from "fast-check";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import { quietLogger, waitFor } from "../support/provider-test-helpers.js";
import {
	contextArbitrary,
	documentArbitrary,
} from "../support/random-flags.js";

let dir: string;
let flagFile: string;
let daemon: RunningDaemon;
const clients: Record<string, Client> = {};
const providers: FlagdProvider[] = [];
const changes: Record<string, number> = {};

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), "flagd-differential-"));
	flagFile = path.join(dir, "flags.json");
	writeFileSync(
		flagFile,
		JSON.stringify({
			flags: {
				seed: { state: "ENABLED", variants: { a: true }, defaultVariant: "a" },
			},
		}),
	);
	daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [{ uri: flagFile, provider: "file" }],
		}),
	);
	await daemon.ready;
	const base = {
		env: {},
		logger: quietLogger,
		host: "127.0.0.1",
		deadlineMs: 5000,
	} as const;
	const variants = {
		rpc: new FlagdProvider({
			...base,
			port: daemon.ports.evaluation,
			cache: "disabled",
		}),
		compiled: new FlagdProvider({
			...base,
			port: daemon.ports.sync,
			resolver: "in-process",
			evaluatorMode: "compiled",
		}),
		interpreted: new FlagdProvider({
			...base,
			port: daemon.ports.sync,
			resolver: "in-process",
			evaluatorMode: "interpreted",
		}),
	};
	for (const [name, provider] of Object.entries(variants)) {
		providers.push(provider);
		await OpenFeature.setProviderAndWait(`differential-${name}`, provider);
		const client = OpenFeature.getClient(`differential-${name}`);
		changes[name] = 0;
		client.addHandler(ProviderEvents.ConfigurationChanged, () => {
			changes[name] = (changes[name] ?? 0) + 1;
		});
		clients[name] = client;
	}
}, 30_000);

afterAll(async () => {
	await OpenFeature.clearProviders();
	for (const p of providers) await p.onClose();
	await daemon?.close();
	await OpenFeature.close();
	rmSync(dir, { recursive: true, force: true });
});

const TYPES = ["boolean", "string", "number", "object"] as const;

async function evaluate(
	client: Client,
	type: (typeof TYPES)[number],
	key: string,
	context: Record<string, unknown>,
): Promise<Partial<EvaluationDetails<JsonValue>>> {
	const ctx = context as never;
	const details: EvaluationDetails<JsonValue> =
		type === "boolean"
			? await client.getBooleanDetails(key, false, ctx)
			: type === "string"
				? await client.getStringDetails(key, "default", ctx)
				: type === "number"
					? await client.getNumberDetails(key, -1, ctx)
					: await client.getObjectDetails(key, { d: 1 }, ctx);
	return {
		value: details.value,
		variant: details.variant,
		reason: details.reason,
		errorCode: details.errorCode,
		flagMetadata: details.flagMetadata,
	};
}

it("in-process (compiled and interpreted) answers exactly like the daemon over RPC", async () => {
	let run = 0;
	await fc.assert(
		fc.asyncProperty(
			documentArbitrary,
			fc.array(contextArbitrary, { minLength: 1, maxLength: 3 }),
			async (document, contexts) => {
				run += 1;
				const before = {
					compiled: changes.compiled ?? 0,
					interpreted: changes.interpreted ?? 0,
				};
				// A run number in the set metadata makes every document differ from the previous one.
				writeFileSync(
					flagFile,
					document.text.replace('{"metadata":{', `{"metadata":{"run":${run},`),
				);
				await waitFor(
					() =>
						(changes.compiled ?? 0) > before.compiled &&
						(changes.interpreted ?? 0) > before.interpreted,
					10_000,
					`the sync payload of run ${run} (did the daemon reject the document?)`,
				);
				for (const key of document.keys) {
					for (const type of TYPES) {
						for (const context of contexts) {
							const expected = await evaluate(
								clients.rpc as Client,
								type,
								key,
								context,
							);
							for (const mode of ["compiled", "interpreted"]) {
								const actual = await evaluate(
									clients[mode] as Client,
									type,
									key,
									context,
								);
								expect({ mode, key, type, ...actual }).toEqual({
									mode,
									key,
									type,
									...expected,
								});
							}
						}
					}
				}
			},
		),
		{ numRuns: 25 },
	);
}, 120_000);
