import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseFlagDocument } from "@flagd-ts/evaluator";
import type { StreamMessage } from "@flagd-ts/provider-core";
import type { Logger } from "@openfeature/server-sdk";
import type { LocalFlagStore } from "../in-process/local-flag-store.js";
import { changeMessage } from "../in-process/sync-flags-stream.js";

/** Options of {@link watchFlagFile}. */
export interface WatchFlagFileOptions {
	readonly filePath: string;
	/** Interval of the re-read that backs up the watcher (missed events, network file systems), in ms. */
	readonly pollIntervalMs: number;
	readonly store: LocalFlagStore;
	readonly logger: Logger;
}

/** Editors and `kubectl` write in several steps; events within this window are read once. */
const SETTLE_MS = 5;

/**
 * The file resolver's flag source, as the stream the event-stream supervisor consumes: reads the JSON or YAML
 * file, applies it to the store and yields `provider_ready`, then re-reads it whenever its directory changes
 * (fs.watch on the directory sees rename-on-save and the symlink swap of Kubernetes ConfigMap volumes) or the poll
 * interval passes, yielding `configuration_change` with the keys that changed.
 *
 * A file that cannot be read (deleted, permissions) ends the stream with an error: the provider turns STALE,
 * keeps evaluating the last flags, turns ERROR after the grace period and recovers when the file is back. A file
 * that reads but does not parse or validate keeps the last good flags, with one log line naming the problem;
 * with no good flags yet, it fails the attempt like a missing file.
 */
export function watchFlagFile(
	options: WatchFlagFileOptions,
): (signal: AbortSignal) => AsyncIterable<StreamMessage> {
	const { filePath, store, logger } = options;
	let lastText: string | undefined;
	let lastProblem: string | undefined;

	/** Reads and applies the file; returns the changed keys, or undefined when the content is unchanged or bad. */
	async function load(): Promise<string[] | undefined> {
		let text: string;
		try {
			text = await readFile(filePath, "utf8");
		} catch (error: unknown) {
			const code = (error as NodeJS.ErrnoException).code ?? "";
			throw new ConnectError(
				`cannot read flag file ${filePath}: ${code || String(error)}`,
				Code.Unavailable,
			);
		}
		if (text === lastText) return undefined;
		const parsed = parseFlagDocument(text);
		if (!parsed.ok) {
			const problem = parsed.errors
				.slice(0, 3)
				.map((e) => `${e.path || "/"}: ${e.message}`)
				.join("; ");
			if (!store.loaded) {
				throw new ConnectError(
					`flag file ${filePath} is invalid: ${problem}`,
					Code.InvalidArgument,
				);
			}
			if (problem !== lastProblem) {
				logger.error(
					`flagd provider: flag file ${filePath} is invalid (${problem}); keeping the last good flags`,
				);
			}
			lastProblem = problem;
			lastText = text;
			return undefined;
		}
		lastProblem = undefined;
		lastText = text;
		return store.apply(parsed.document);
	}

	return async function* flagFile(signal) {
		const hadFlags = store.loaded;
		// An attempt after a failure re-reads even unchanged content: the file may have come back identical.
		lastText = undefined;
		const changes = new ChangeSignal(
			path.dirname(filePath),
			options.pollIntervalMs,
			logger,
		);
		try {
			const first = await load();
			yield { type: "provider_ready" };
			if (hadFlags && first !== undefined && first.length > 0)
				yield changeMessage(first);
			while (!signal.aborted) {
				await changes.next(signal);
				if (signal.aborted) return;
				const changed = await load();
				if (changed !== undefined && changed.length > 0)
					yield changeMessage(changed);
			}
		} finally {
			changes.close();
		}
	};
}

/** Resolves `next()` when the directory changes or the poll interval passes, whichever comes first. */
class ChangeSignal {
	private readonly watcher: FSWatcher | undefined;
	private pending = false;
	private wake: (() => void) | undefined;
	private readonly pollIntervalMs: number;

	constructor(directory: string, pollIntervalMs: number, logger: Logger) {
		this.pollIntervalMs = pollIntervalMs;
		try {
			this.watcher = watch(directory, { persistent: false }, () =>
				this.notify(),
			);
			this.watcher.on("error", (error) => {
				logger.warn(
					`flagd provider: watching ${directory} failed (${error.message}); polling every ${pollIntervalMs} ms`,
				);
				this.watcher?.close();
			});
		} catch (error: unknown) {
			logger.warn(
				`flagd provider: cannot watch ${directory} (${error instanceof Error ? error.message : String(error)}); polling every ${pollIntervalMs} ms`,
			);
		}
	}

	private notify(): void {
		this.pending = true;
		this.wake?.();
	}

	async next(signal: AbortSignal): Promise<void> {
		if (!this.pending) {
			await new Promise<void>((resolve) => {
				const done = (): void => {
					clearTimeout(timer);
					signal.removeEventListener("abort", done);
					this.wake = undefined;
					resolve();
				};
				const timer = setTimeout(done, this.pollIntervalMs);
				signal.addEventListener("abort", done, { once: true });
				this.wake = done;
			});
		}
		if (this.pending) {
			// Let a multi-step write finish, then read once for all its events.
			await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		}
		this.pending = false;
	}

	close(): void {
		this.watcher?.close();
		this.wake?.();
	}
}
