/**
 * A TypeScript equivalent of the flagd-testbed launchpad, in process: it runs our daemon the way the testbed runs
 * flagd. A temp dir plays the launchpad's working dir: `rawflags/` (a copy of the testbed's flag files, made at test
 * time), `flags/allFlags.json` (deep-merge of all but selector-*), `configs/` (the named configs, TLS paths
 * rewritten into the temp dir) and `ssl/` (a server certificate for CN=localhost signed by the test CA).
 *
 * Operations (testbed endpoint in brackets):
 * - `start(config)` [POST /start]: stop a running daemon, regenerate allFlags.json, start with `configs/<name>.json`
 *   and wait until every source delivered its flags (the testbed polls /readyz for up to 10 s).
 * - `stop()` [POST /stop].
 * - `restart(seconds)` [POST /restart?seconds=N]: stop, delete allFlags.json, and start again after N seconds with
 *   the last config, on the SAME ports. Returns once the daemon is down; `settle()` awaits the restart.
 * - `change()` [POST /change]: flip `changing-flag`'s defaultVariant foo↔bar in rawflags (atomic rename) and
 *   rewrite allFlags.json (atomic rename).
 *
 * Source URIs in the configs stay as written (`flags/allFlags.json`), because they are also the source ids that
 * `source=` selectors name; the file sources read them relative to the temp dir (flagd resolves them relative to
 * its working dir), through startDaemon's `createSource` seam.
 */
import {
	copyFile,
	mkdir,
	mkdtemp,
	readdir,
	readFile,
	rename,
	rm,
	writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveDaemonConfig } from "../../packages/daemon/src/config/resolve-daemon-config.js";
import type { Logger } from "../../packages/daemon/src/logging/logger.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { createSyncSource } from "../../packages/daemon/src/syncs/create-sync-source.js";
import { FileSync } from "../../packages/daemon/src/syncs/file/file-sync.js";
import type { SourceConfig } from "../../packages/daemon/src/syncs/source-config.js";
import type { SyncSource } from "../../packages/daemon/src/syncs/sync-source.js";
import { testbedRoot } from "../support/gherkin-cases.js";
import { pickFreePorts } from "./free-ports.js";
import { mergeFlagFiles } from "./merge-flag-files.js";
import { generateServerCertificate, type TlsMaterial } from "./tls-material.js";

/**
 * Named configs: the testbed's four, plus `socket` (default + `--socket-path`, which the testbed lacks although
 * harnesses ask for a socket provider).
 */
export type LaunchpadConfigName =
	| "default"
	| "ssl"
	| "metadata"
	| "sync-payload"
	| "socket";

/** The fixed ports of one run (picked once, reused across restarts). */
export interface LaunchpadPorts {
	readonly evaluation: number;
	readonly management: number;
	readonly sync: number;
	readonly ofrep: number;
}

/** One line the daemon logged at warn or error (kept for failure messages). */
export interface DaemonLogLine {
	readonly level: "warn" | "error";
	readonly message: string;
	readonly fields: Record<string, unknown>;
}

const READY_TIMEOUT_MS = 10_000; // the testbed launchpad's /readyz window

function recordingLogger(
	lines: DaemonLogLine[],
	bound: Record<string, unknown> = {},
): Logger {
	const keep =
		(level: "warn" | "error") =>
		(fields: Record<string, unknown>, message: string) => {
			lines.push({ level, message, fields: { ...bound, ...fields } });
			if (lines.length > 200) lines.shift();
		};
	return {
		debug() {},
		info() {},
		warn: keep("warn"),
		error: keep("error"),
		child: (fields) => recordingLogger(lines, { ...bound, ...fields }),
	};
}

/** See the file comment. Create with {@link Launchpad.create}; `dispose()` stops everything and removes the dir. */
export class Launchpad {
	readonly dir: string;
	readonly ports: LaunchpadPorts;
	readonly tls: TlsMaterial;
	/** Unix socket of the `socket` config's evaluation service. */
	readonly socketPath: string;
	/** Warnings and errors the daemon logged (most recent 200). */
	readonly daemonLog: DaemonLogLine[] = [];
	#daemon: RunningDaemon | undefined;
	#config: LaunchpadConfigName | undefined;
	#pendingRestart: Promise<void> | undefined;
	#restartTimer: ReturnType<typeof setTimeout> | undefined;
	#cancelRestart: (() => void) | undefined;

	private constructor(dir: string, ports: LaunchpadPorts, tls: TlsMaterial) {
		this.dir = dir;
		this.ports = ports;
		this.tls = tls;
		this.socketPath = path.join(dir, "flagd.sock");
	}

	/** Prepares the temp dir (flag files, configs, TLS material) and picks the ports; starts nothing. */
	static async create(): Promise<Launchpad> {
		const testbed = testbedRoot();
		const dir = await mkdtemp(path.join(os.tmpdir(), "flagd-launchpad-"));
		try {
			await mkdir(path.join(dir, "rawflags"));
			await mkdir(path.join(dir, "flags"));
			await mkdir(path.join(dir, "configs"));
			await mkdir(path.join(dir, "ssl"));
			for (const name of await readdir(path.join(testbed, "flags"))) {
				await copyFile(
					path.join(testbed, "flags", name),
					path.join(dir, "rawflags", name),
				);
			}
			const tls = await generateServerCertificate(
				path.join(dir, "ssl"),
				path.join(testbed, "ssl"),
			);
			for (const name of await readdir(
				path.join(testbed, "launchpad", "configs"),
			)) {
				const text = await readFile(
					path.join(testbed, "launchpad", "configs", name),
					"utf8",
				);
				await writeFile(
					path.join(dir, "configs", name),
					rewriteConfig(text, dir),
				);
			}
			const [evaluation, management, sync, ofrep] = await pickFreePorts(4);
			if (
				evaluation === undefined ||
				management === undefined ||
				sync === undefined ||
				ofrep === undefined
			) {
				throw new Error("launchpad: could not pick 4 free ports");
			}
			return new Launchpad(dir, { evaluation, management, sync, ofrep }, tls);
		} catch (error: unknown) {
			await rm(dir, { recursive: true, force: true });
			throw error;
		}
	}

	/** The config the daemon runs (or last ran) with. */
	get config(): LaunchpadConfigName | undefined {
		return this.#config;
	}

	/** Whether a daemon is up (false during a restart's outage). */
	get running(): boolean {
		return this.#daemon !== undefined;
	}

	/** [POST /start] Stops a running daemon, regenerates allFlags.json and starts with `config`; resolves when ready. */
	async start(config: LaunchpadConfigName): Promise<void> {
		await this.settle();
		await this.stop();
		await this.writeAllFlags();
		await this.launch(config);
	}

	/** Starts `config` unless the daemon already runs it (harness shortcut: the testbed restarts flagd every time). */
	async ensureStarted(config: LaunchpadConfigName): Promise<void> {
		await this.settle();
		if (this.#daemon !== undefined && this.#config === config) return;
		await this.start(config);
	}

	/** [POST /stop] Stops the daemon (its close() drains streams and closes every connection). */
	async stop(): Promise<void> {
		const daemon = this.#daemon;
		this.#daemon = undefined;
		if (daemon !== undefined) await daemon.close();
	}

	/**
	 * [POST /restart?seconds=N] Stops the daemon and deletes allFlags.json now, then regenerates it and starts the
	 * last config again after `seconds`, on the same ports. Resolves once the daemon is down.
	 */
	async restart(seconds: number): Promise<void> {
		const config = this.#config;
		if (config === undefined)
			throw new Error("launchpad: restart before any start");
		await this.settle();
		await this.stop();
		await rm(path.join(this.dir, "flags", "allFlags.json"), { force: true });
		this.#pendingRestart = new Promise<void>((resolve, reject) => {
			this.#cancelRestart = resolve;
			this.#restartTimer = setTimeout(() => {
				this.#restartTimer = undefined;
				this.#cancelRestart = undefined;
				this.writeAllFlags()
					.then(() => this.launch(config))
					.then(resolve, reject);
			}, seconds * 1000);
		});
		// settle() reports a failed restart; this only keeps an unawaited one from being an unhandled rejection.
		this.#pendingRestart.catch(() => undefined);
	}

	/** Waits for a pending restart to finish; rethrows its failure. */
	async settle(): Promise<void> {
		const pending = this.#pendingRestart;
		if (pending === undefined) return;
		try {
			await pending;
		} finally {
			if (this.#pendingRestart === pending) this.#pendingRestart = undefined;
		}
	}

	/** [POST /change] Flips changing-flag's defaultVariant foo↔bar; returns the new variant once files are written. */
	async change(): Promise<string> {
		const file = path.join(this.dir, "rawflags", "changing-flag.json");
		const document = JSON.parse(await readFile(file, "utf8")) as {
			flags: Record<string, { defaultVariant: string }>;
		};
		const flag = document.flags["changing-flag"];
		if (flag === undefined)
			throw new Error(`launchpad: ${file} has no changing-flag`);
		flag.defaultVariant = flag.defaultVariant === "foo" ? "bar" : "foo";
		await writeAtomically(file, `${JSON.stringify(document, null, 2)}\n`);
		await this.writeAllFlags();
		return flag.defaultVariant;
	}

	/** Cancels a pending restart, stops the daemon and removes the temp dir. */
	async dispose(): Promise<void> {
		clearTimeout(this.#restartTimer);
		this.#restartTimer = undefined;
		// Before the timer fired this settles the restart at once; after, it lets the launch in flight finish so
		// its daemon is stopped below instead of outliving the run.
		this.#cancelRestart?.();
		this.#cancelRestart = undefined;
		let restartError: unknown;
		try {
			await this.settle();
		} catch (error: unknown) {
			restartError = error; // reported after cleanup, so the temp dir and daemon are still released
		}
		await this.stop();
		await rm(this.dir, { recursive: true, force: true });
		if (restartError !== undefined) throw restartError;
	}

	private async writeAllFlags(): Promise<void> {
		const merged = await mergeFlagFiles(path.join(this.dir, "rawflags"));
		await writeAtomically(
			path.join(this.dir, "flags", "allFlags.json"),
			merged,
		);
	}

	private async launch(config: LaunchpadConfigName): Promise<void> {
		const configFile = path.join(
			this.dir,
			"configs",
			`${config === "socket" ? "default" : config}.json`,
		);
		const argv = [
			"--config",
			configFile,
			"--port",
			String(this.ports.evaluation),
			"--management-port",
			String(this.ports.management),
			"--sync-port",
			String(this.ports.sync),
			"--ofrep-port",
			String(this.ports.ofrep),
			"--bind-address",
			"127.0.0.1",
			...(config === "socket" ? ["--socket-path", this.socketPath] : []),
		];
		const { config: daemonConfig } = resolveDaemonConfig({ argv, env: {} });
		const logger = recordingLogger(this.daemonLog, { config });
		const daemon = await startDaemon(daemonConfig, {
			logger,
			createSource: (source) => this.createSource(source, logger),
			// The testbed kills flagd outright; a long drain would only slow restarts down.
			drainMs: 100,
		});
		this.#config = config;
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			await Promise.race([
				daemon.ready,
				new Promise<never>((_, reject) => {
					timer = setTimeout(
						() =>
							reject(
								new Error(
									`launchpad: daemon (${config}) not ready within ${READY_TIMEOUT_MS} ms`,
								),
							),
						READY_TIMEOUT_MS,
					);
				}),
			]);
		} catch (error: unknown) {
			await daemon.close();
			throw error;
		} finally {
			clearTimeout(timer);
		}
		this.#daemon = daemon;
	}

	private async createSource(
		source: SourceConfig,
		logger: Logger,
	): Promise<SyncSource> {
		const child = logger.child({ source: source.uri });
		if (source.provider === "file" && !path.isAbsolute(source.uri)) {
			return new FileSync({
				uri: source.uri,
				path: path.join(this.dir, source.uri),
				logger: child,
			});
		}
		return createSyncSource(source, { logger: child });
	}
}

/** Points the config's absolute testbed paths (`/ssl/...`) into `dir`; relative source URIs are kept. */
function rewriteConfig(text: string, dir: string): string {
	const config = JSON.parse(text) as Record<string, unknown>;
	for (const key of ["server-cert-path", "server-key-path"]) {
		const value = config[key];
		if (typeof value === "string" && value.startsWith("/ssl/")) {
			config[key] = path.join(dir, "ssl", path.basename(value));
		}
	}
	return `${JSON.stringify(config, null, 2)}\n`;
}

async function writeAtomically(file: string, content: string): Promise<void> {
	const temp = `${file}.${process.pid}.tmp`;
	await writeFile(temp, content);
	await rename(temp, file);
}
