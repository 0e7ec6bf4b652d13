/**
 * `file:` source: a local JSON/YAML flag document, watched for changes. Directory watches (see DirectoryWatcher)
 * give sub-100 ms reaction to writes, renames and symlink swaps; a periodic stat check catches anything the
 * platform's watcher misses (network filesystems, a symlink target edited in another directory). A deleted,
 * truncated or unparsable file keeps the last good snapshot (logged at warn with the source uri) and the source
 * emits again as soon as the file is good.
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { DaemonError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logging/logger.js";
import { ChangeTrigger } from "../internal/change-trigger.js";
import {
	checkFlagDocument,
	stripBom,
} from "../internal/check-flag-document.js";
import { contentHash } from "../internal/content-hash.js";
import { describeError } from "../internal/describe-error.js";
import {
	type DocumentFormat,
	formatFromPath,
} from "../internal/document-format.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";
import { DirectoryWatcher } from "./directory-watcher.js";

export interface FileSyncOptions {
	/** Source id as configured (flagd uses the path without the `file:` prefix). */
	readonly uri: string;
	/** File to read. @default `uri` with a leading `file:` removed */
	readonly path?: string;
	readonly logger?: Logger;
	/**
	 * Quiet time after the last file-system event before reading, so one write's burst is read once. A new, valid
	 * JSON document is taken at the burst's first event without waiting (see `peek`). @default 20 ms
	 */
	readonly debounceMs?: number;
	/** Period of the fallback stat check. @default 1000 ms */
	readonly statIntervalMs?: number;
}

type FileState = "ok" | "missing" | "invalid";

type CheckResult =
	| { readonly kind: "changed"; readonly payload: SyncPayload }
	| { readonly kind: "unchanged" }
	| { readonly kind: "failed"; readonly error: DaemonError };

/** Most events one write makes arrive within a few ms; past this many debounce rounds, read anyway. */
const MAX_DEBOUNCE_ROUNDS = 10;

export class FileSync implements SyncSource {
	readonly uri: string;
	private readonly path: string;
	private readonly format: DocumentFormat | undefined;
	private readonly logger: Logger;
	private readonly debounceMs: number;
	private readonly statIntervalMs: number;
	private ready = false;
	private state: FileState = "missing";
	private lastHash: string | undefined;
	private lastStat: string | undefined;
	private lastProblem: string | undefined;
	private lastBadHash: string | undefined;
	private lastGood: SyncPayload | undefined;

	constructor(options: FileSyncOptions) {
		this.uri = options.uri;
		this.path = resolve(options.path ?? options.uri.replace(/^file:/, ""));
		this.format = formatFromPath(this.path);
		this.logger = (options.logger ?? silentLogger).child({
			source: options.uri,
			sync: "file",
		});
		this.debounceMs = options.debounceMs ?? 20;
		this.statIntervalMs = options.statIntervalMs ?? 1000;
	}

	async init(_signal: AbortSignal): Promise<void> {
		if (this.format === undefined) {
			throw new DaemonError(
				"SOURCE_URI_INVALID",
				`file source "${this.uri}": unsupported file extension (use .json, .yaml or .yml)`,
			);
		}
	}

	isReady(): boolean {
		return this.ready;
	}

	async resync(_signal: AbortSignal): Promise<SyncPayload> {
		const result = await this.check(true);
		if (result.kind === "changed") return result.payload;
		if (this.lastGood !== undefined) return this.lastGood;
		throw result.kind === "failed"
			? result.error
			: new DaemonError(
					"SOURCE_UNAVAILABLE",
					`file source "${this.uri}" has no good state`,
				);
	}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		await this.init(signal);
		const trigger = new ChangeTrigger();
		let forceRead = false;
		const names = new Set([basename(this.path)]);
		const watcher = new DirectoryWatcher(
			{
				onEvent: (_dir, filename) => {
					// Events about our file, k8s `..data` swaps or unnamed events mean "read now"; others only stat.
					if (
						filename === null ||
						names.has(filename) ||
						filename.startsWith("..")
					)
						forceRead = true;
					trigger.notify();
				},
			},
			this.logger,
		);
		const statTimer = setInterval(() => trigger.notify(), this.statIntervalMs);
		// Clean up on abort even if the consumer never resumes this generator (so `finally` would not run).
		const cleanup = (): void => {
			clearInterval(statTimer);
			watcher.close();
		};
		signal.addEventListener("abort", cleanup, { once: true });
		try {
			// Arm before the first read so a write between the read and the arming is not lost.
			await watcher.update(await this.watchedDirectories(names));
			const first = await this.check(true);
			if (first.kind === "failed") throw first.error;
			if (first.kind === "changed") {
				this.ready = true;
				yield first.payload;
			}
			while (!signal.aborted) {
				if (!(await trigger.wait(signal))) continue;
				let early: SyncPayload | undefined;
				for (let round = 0; round < MAX_DEBOUNCE_ROUNDS; round++) {
					// An event about our file: a complete new JSON document is taken now (see `peek`).
					if (forceRead) early = await this.peek();
					if (early !== undefined) break;
					if (!(await trigger.wait(signal, this.debounceMs))) break;
				}
				if (early !== undefined) {
					forceRead = false;
					await watcher.update(await this.watchedDirectories(names));
					yield early;
					continue;
				}
				if (signal.aborted) break;
				const force = forceRead;
				forceRead = false;
				await watcher.update(await this.watchedDirectories(names));
				const result = await this.check(force);
				if (result.kind === "changed") yield result.payload;
			}
		} finally {
			signal.removeEventListener("abort", cleanup);
			cleanup();
		}
	}

	/** The file's directory, plus the directory of its resolved target when it is a symlink into another one. */
	private async watchedDirectories(names: Set<string>): Promise<string[]> {
		const dirs = [dirname(this.path)];
		try {
			const real = await realpath(this.path);
			names.add(basename(real));
			if (dirname(real) !== dirs[0]) dirs.push(dirname(real));
		} catch {
			// Missing file or dangling link: the parent directory watch sees it come back.
		}
		return dirs;
	}

	/**
	 * The first event of a burst about a JSON file: read at once instead of after the debounce. An atomic replace
	 * (rename, symlink swap) is complete when its event arrives, and a JSON document caught half-written is never
	 * valid JSON (a strict prefix of an object never parses), so only a good, new document is taken here; anything
	 * else (unreadable, invalid, unchanged) is left to the debounced read, which reports problems. YAML waits for
	 * the debounce: a prefix of a YAML document cut at a line break is often a valid, smaller document.
	 */
	private async peek(): Promise<SyncPayload | undefined> {
		if (this.format !== "json" || this.state !== "ok") return undefined;
		let signature: string;
		let text: string;
		try {
			const info = await stat(this.path);
			signature = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
			if (signature === this.lastStat) return undefined;
			text = stripBom(await readFile(this.path, "utf8"));
		} catch {
			return undefined; // the debounced read reports it
		}
		const hash = contentHash(text);
		if (hash === this.lastHash || !checkFlagDocument(text, "json").ok) {
			return undefined;
		}
		this.lastStat = signature;
		this.lastHash = hash;
		this.lastGood = { source: this.uri, content: text, format: "json" };
		return this.lastGood;
	}

	/** Reads the file if it may have changed; returns a payload only for new good content (or a recovery). */
	private async check(force: boolean): Promise<CheckResult> {
		let signature: string;
		try {
			const info = await stat(this.path);
			signature = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
		} catch (error: unknown) {
			return this.problem(
				"missing",
				`cannot stat file: ${withoutPath(describeError(error))}`,
			);
		}
		if (!force && signature === this.lastStat && this.state === "ok")
			return { kind: "unchanged" };
		let text: string;
		try {
			text = stripBom(await readFile(this.path, "utf8"));
		} catch (error: unknown) {
			return this.problem(
				"missing",
				`cannot read file: ${withoutPath(describeError(error))}`,
			);
		}
		this.lastStat = signature;
		const hash = contentHash(text);
		if (this.state === "ok" && hash === this.lastHash)
			return { kind: "unchanged" };
		// The same bad content again (stat tick, touch): already reported, so don't parse it again.
		if (this.state === "invalid" && hash === this.lastBadHash)
			return this.problem("invalid", this.lastProblem ?? "invalid content");
		const format = this.format ?? "json";
		const verdict = checkFlagDocument(text, format);
		if (!verdict.ok) {
			this.lastBadHash = hash;
			return this.problem("invalid", verdict.reason);
		}
		const recovered = this.state !== "ok" && this.lastGood !== undefined;
		this.state = "ok";
		this.lastHash = hash;
		this.lastProblem = undefined;
		this.lastGood = { source: this.uri, content: text, format };
		const payload = recovered ? { ...this.lastGood, recovered } : this.lastGood;
		return { kind: "changed", payload };
	}

	private problem(state: FileState, reason: string): CheckResult {
		const message = `file source "${this.uri}": ${reason}`;
		// Log each distinct problem once, not on every stat tick while it persists.
		if (reason !== this.lastProblem && this.lastGood !== undefined) {
			this.logger.warn(
				{ path: this.path, reason },
				"file unusable; keeping the last good flags",
			);
		}
		this.lastProblem = reason;
		this.state = state;
		this.lastStat = undefined;
		return {
			kind: "failed",
			error: new DaemonError(
				state === "missing" ? "SOURCE_UNAVAILABLE" : "SOURCE_PAYLOAD_INVALID",
				message,
			),
		};
	}
}

/** Node's fs errors end with `, stat '/the/path'`; the message already names the file once. */
function withoutPath(description: string): string {
	return description.replace(/, \w+ '[^']*'$/, "");
}
