/**
 * The set-up the provider integration tests share (RPC, in-process, connection sharing): a flag file in a temporary
 * folder, real daemons started in this process with that file as their only source, and FlagdProviders pointed at
 * them. Registers the Jest hooks that tear it down, so every daemon and provider a test opens is closed after it
 * (Jest runs in band: one leaked handle hangs the run) and the next test starts from the same flag document.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import { afterAll, afterEach, beforeAll } from "@jest/globals";
import { type Client, OpenFeature } from "@openfeature/server-sdk";
import type { DaemonConfig } from "../../packages/daemon/src/config/daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "./loopback-daemon-config.js";
import { quietLogger } from "./provider-test-helpers.js";

export interface FileDaemonHarnessOptions {
	/** Prefix of the temporary folder. */
	readonly name: string;
	/** The flag document every test starts from; written again after each test. */
	readonly flags: () => object;
	/** Prefix of the OpenFeature domains connect() registers. */
	readonly domainPrefix: string;
	/** Provider options every provider starts from, before a test's own. */
	readonly providerDefaults?: FlagdProviderOptions;
	/** Closes what a suite opened between its providers and its daemons (e.g. proxies in front of the daemon). */
	readonly closeBeforeDaemons?: () => Promise<void>;
}

export interface FileDaemonHarness {
	/** The temporary folder (set before the first test). */
	readonly dir: string;
	/** The flag file every daemon reads (set before the first test). */
	readonly flagFile: string;
	/** Daemons closed after each test; a test that closes one itself takes it out of the list. */
	readonly daemons: RunningDaemon[];
	/** Providers closed after each test. */
	readonly providers: FlagdProvider[];
	/** Starts a daemon on free 127.0.0.1 ports serving the flag file, and waits until it is ready. */
	daemon(overrides?: Partial<DaemonConfig>): Promise<RunningDaemon>;
	/** A provider (quiet logger, no env, host 127.0.0.1, the suite's defaults) closed after the test. */
	provider(options: FlagdProviderOptions): FlagdProvider;
	/** provider() registered under a fresh domain and ready. */
	connect(
		options: FlagdProviderOptions,
	): Promise<{ client: Client; provider: FlagdProvider }>;
	writeFlags(document: object): void;
}

/** Call at the top level of a test file: sets the harness up before the first test and tears it down after each. */
export function fileDaemonHarness(
	options: FileDaemonHarnessOptions,
): FileDaemonHarness {
	let dir = "";
	let flagFile = "";
	let domainCounter = 0;
	const daemons: RunningDaemon[] = [];
	const providers: FlagdProvider[] = [];
	const writeFlags = (document: object) =>
		writeFileSync(flagFile, JSON.stringify(document));
	const provider = (providerOptions: FlagdProviderOptions) => {
		const p = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			...options.providerDefaults,
			...providerOptions,
		});
		providers.push(p);
		return p;
	};

	beforeAll(() => {
		dir = mkdtempSync(path.join(tmpdir(), options.name));
		flagFile = path.join(dir, "flags.json");
		writeFlags(options.flags());
	});

	afterEach(async () => {
		await OpenFeature.clearProviders();
		for (const p of providers.splice(0)) await p.onClose();
		await options.closeBeforeDaemons?.();
		for (const d of daemons.splice(0)) await d.close();
		writeFlags(options.flags());
	});

	afterAll(async () => {
		await OpenFeature.close();
		rmSync(dir, { recursive: true, force: true });
	});

	return {
		get dir() {
			return dir;
		},
		get flagFile() {
			return flagFile;
		},
		daemons,
		providers,
		daemon: async (overrides = {}) => {
			const d = await startDaemon(
				loopbackDaemonConfig({
					sources: [{ uri: flagFile, provider: "file" }],
					...overrides,
				}),
			);
			daemons.push(d);
			await d.ready;
			return d;
		},
		provider,
		connect: async (providerOptions) => {
			const p = provider(providerOptions);
			const domain = `${options.domainPrefix}-${domainCounter++}`;
			await OpenFeature.setProviderAndWait(domain, p);
			return { client: OpenFeature.getClient(domain), provider: p };
		},
		writeFlags,
	};
}
