/**
 * Watches a set of directories with node:fs `watch` and re-arms them when they disappear or are replaced.
 * Directories, not files, are watched because the interesting changes replace the file: Kubernetes ConfigMap
 * volumes swap a `..data` symlink, editors save by writing a temp file and renaming it over the original. A watch on
 * the file's own inode would go silent after the first such swap (flagd#42–#44).
 */
import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import type { Logger } from "../../logging/logger.js";
import { describeError } from "../internal/describe-error.js";

interface ArmedDirectory {
	readonly watcher: FSWatcher;
	readonly ino: number;
}

export interface DirectoryWatcherHandlers {
	/** An entry changed in `directory`; `filename` may be null (the platform did not say which). */
	onEvent(directory: string, filename: string | null): void;
}

export class DirectoryWatcher {
	private readonly armed = new Map<string, ArmedDirectory>();
	private readonly handlers: DirectoryWatcherHandlers;
	private readonly logger: Logger;
	private closed = false;

	constructor(handlers: DirectoryWatcherHandlers, logger: Logger) {
		this.handlers = handlers;
		this.logger = logger;
	}

	/**
	 * Makes the watched set exactly `directories`: arms new ones, closes dropped ones, and re-arms any whose inode
	 * changed (deleted and recreated) or whose watcher failed. Missing directories are skipped; a later call arms them.
	 */
	async update(directories: readonly string[]): Promise<void> {
		if (this.closed) return;
		const wanted = new Set(directories);
		for (const [dir, entry] of this.armed) {
			if (!wanted.has(dir)) this.disarm(dir, entry);
		}
		for (const dir of wanted) {
			let ino: number;
			try {
				ino = (await stat(dir)).ino;
			} catch {
				const entry = this.armed.get(dir);
				if (entry !== undefined) this.disarm(dir, entry);
				continue;
			}
			const entry = this.armed.get(dir);
			if (entry !== undefined && entry.ino === ino) continue;
			if (entry !== undefined) this.disarm(dir, entry);
			if (this.closed) return;
			this.arm(dir, ino);
		}
	}

	close(): void {
		this.closed = true;
		for (const [dir, entry] of this.armed) this.disarm(dir, entry);
	}

	private arm(dir: string, ino: number): void {
		let watcher: FSWatcher;
		try {
			watcher = watch(dir, { persistent: false }, (_event, filename) => {
				this.handlers.onEvent(dir, filename === null ? null : String(filename));
			});
		} catch (error: unknown) {
			this.logger.warn(
				{ directory: dir, error: describeError(error) },
				"cannot watch directory; relying on periodic checks until it can be watched",
			);
			return;
		}
		watcher.on("error", (error: unknown) => {
			// The directory went away (or inotify gave up): drop the watcher; the next update() re-arms it.
			this.logger.warn(
				{ directory: dir, error: describeError(error) },
				"directory watcher failed; will re-arm",
			);
			const entry = this.armed.get(dir);
			if (entry?.watcher === watcher) this.disarm(dir, entry);
			this.handlers.onEvent(dir, null);
		});
		this.armed.set(dir, { watcher, ino });
	}

	private disarm(dir: string, entry: ArmedDirectory): void {
		this.armed.delete(dir);
		entry.watcher.close();
	}
}
