/**
 * The OTLP collector's TLS files (`--otel-ca-path`, `--otel-cert-path`, `--otel-key-path`), read at start and
 * re-read every `--otel-reload-interval` like Go flagd's certificate reloader, so rotated certificates (cert-manager,
 * Vault) are used without a restart. Unreadable files at start are a configuration error; a failed re-read keeps
 * the last good material and says so once per failure. The exporters pick the new material up on their next
 * request (otlp-http-exporters.ts compares the object they last used).
 */
import { readFileSync } from "node:fs";
import { DaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { CollectorTls } from "./otlp-http-exporters.js";

export interface CollectorTlsFilesOptions {
	readonly caPath: string | undefined;
	readonly certPath: string | undefined;
	readonly keyPath: string | undefined;
	/** How often the files are re-read; 0 reads them once. */
	readonly reloadIntervalMs: number;
	readonly logger: Logger;
}

const FILES = [
	["ca", "caPath", "--otel-ca-path"],
	["cert", "certPath", "--otel-cert-path"],
	["key", "keyPath", "--otel-key-path"],
] as const;

/** See the file comment. */
export class CollectorTlsFiles {
	readonly #options: CollectorTlsFilesOptions;
	#current: CollectorTls;
	#timer: NodeJS.Timeout | undefined;

	/** Reads the files; throws DaemonError CONFIG_INVALID naming the option whose file cannot be read. */
	constructor(options: CollectorTlsFilesOptions) {
		this.#options = options;
		this.#current = this.#read();
	}

	/** The material in use; a new object after each reload that changed something. */
	get current(): CollectorTls {
		return this.#current;
	}

	/** Starts re-reading every interval (no timer when no file is configured or the interval is 0). */
	start(): void {
		const configured = FILES.some(([, path]) => this.#options[path]);
		if (!configured || this.#options.reloadIntervalMs <= 0) return;
		this.#timer = setInterval(
			() => this.reload(),
			this.#options.reloadIntervalMs,
		);
		// Reloading alone must not keep the process alive.
		this.#timer.unref();
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
	}

	/** Re-reads the files now; true when their contents changed. A failure keeps the current material. */
	reload(): boolean {
		let next: CollectorTls;
		try {
			next = this.#read();
		} catch (e: unknown) {
			this.#options.logger.warn(
				{},
				`${e instanceof Error ? e.message : String(e)}; keeping the collector TLS material read before`,
			);
			return false;
		}
		const changed = FILES.some(([name]) => {
			const before = this.#current[name];
			const after = next[name];
			return before === undefined || after === undefined
				? before !== after
				: !before.equals(after);
		});
		if (!changed) return false;
		this.#current = next;
		this.#options.logger.info({}, "OTLP collector TLS files reloaded");
		return true;
	}

	#read(): CollectorTls {
		const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
		for (const [name, pathOption, flag] of FILES) {
			const path = this.#options[pathOption];
			if (path === undefined) continue;
			try {
				out[name] = readFileSync(path);
			} catch (e: unknown) {
				throw new DaemonError(
					"CONFIG_INVALID",
					`${flag}: cannot read ${path}: ${String(e)}`,
					{ cause: e },
				);
			}
		}
		return out;
	}
}
