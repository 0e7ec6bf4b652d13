/**
 * Blob sources (`s3://`, `gs://`, `azblob://`): one poller shared by the three drivers. Polls on flagd's
 * wall-clock grid (with the `intervalSeed` offset), skips the download while the object's ETag/generation is
 * unchanged, and emits only content that changed and parses as a flag document. The first read must succeed;
 * later failures are logged and retried at the next poll.
 */
import { DaemonError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logging/logger.js";
import { parseBlobUri } from "../internal/blob-uri.js";
import {
	checkFlagDocument,
	stripBom,
} from "../internal/check-flag-document.js";
import { contentHash } from "../internal/content-hash.js";
import { describeError } from "../internal/describe-error.js";
import { formatForRemote } from "../internal/document-format.js";
import { waitForNextPoll } from "../internal/poll-schedule.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";
import type { BlobReader } from "./blob-reader.js";

export interface BlobSyncOptions {
	/** The full URI incl. query: the source id. */
	readonly uri: string;
	/** Opens the driver (loads its SDK lazily). Called once, from init(). */
	readonly openReader: (signal: AbortSignal) => Promise<BlobReader>;
	/** Poll interval. @default 5000 ms */
	readonly intervalMs?: number | undefined;
	/** Deterministic poll offset seed. @default none */
	readonly intervalSeed?: string | undefined;
	readonly logger?: Logger | undefined;
	/**
	 * Longest one read may take before it is abandoned (and retried at the next poll), so a stalled connection to the
	 * store can never freeze the source. @default 10000 ms
	 */
	readonly readTimeoutMs?: number | undefined;
	/** Clock for the poll schedule; a test seam. @default Date.now */
	readonly now?: (() => number) | undefined;
}

export class BlobSync implements SyncSource {
	readonly uri: string;
	private readonly options: BlobSyncOptions;
	private readonly objectName: string;
	private readonly logger: Logger;
	private reader: BlobReader | undefined;
	private ready = false;
	private version: string | undefined;
	private lastHash: string | undefined;
	private failing = false;

	constructor(options: BlobSyncOptions) {
		this.uri = options.uri;
		this.options = options;
		const parsed = parseBlobUri(options.uri);
		this.objectName = parsed.object;
		this.logger = (options.logger ?? silentLogger).child({
			source: options.uri,
			sync: parsed.scheme,
		});
	}

	async init(signal: AbortSignal): Promise<void> {
		this.reader ??= await this.options.openReader(signal);
	}

	isReady(): boolean {
		return this.ready;
	}

	async resync(signal: AbortSignal): Promise<SyncPayload> {
		const payload = await this.readOnce(signal, false);
		if (payload === undefined)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`blob source "${this.uri}" returned no content`,
			);
		return payload;
	}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		// Release the SDK client on abort even if the consumer never resumes this generator.
		const onAbort = (): void => this.close();
		signal.addEventListener("abort", onAbort, { once: true });
		try {
			await this.init(signal);
			const first = await this.readOnce(signal, false);
			if (first === undefined)
				throw new DaemonError(
					"SOURCE_UNAVAILABLE",
					`blob source "${this.uri}" returned no content`,
				);
			this.ready = true;
			yield first;
			const schedule = {
				intervalMs: this.options.intervalMs ?? 5000,
				intervalSeed: this.options.intervalSeed,
				now: this.options.now,
			};
			while (!signal.aborted) {
				await waitForNextPoll(schedule, signal);
				if (signal.aborted) break;
				try {
					const payload = await this.readOnce(signal, true);
					if (this.failing) this.logger.info({}, "poll succeeded again");
					this.failing = false;
					if (payload !== undefined) yield payload;
				} catch (error: unknown) {
					if (signal.aborted) break;
					this.failing = true;
					this.logger.warn(
						{ error: describeError(error) },
						"poll failed; keeping the last good flags and retrying at the next poll",
					);
				}
			}
		} finally {
			signal.removeEventListener("abort", onAbort);
			this.close();
		}
	}

	private close(): void {
		this.reader?.close();
		this.reader = undefined;
	}

	/** A payload for new good content; undefined when unchanged. Rejects on read failure or invalid content. */
	private async readOnce(
		signal: AbortSignal,
		conditional: boolean,
	): Promise<SyncPayload | undefined> {
		await this.init(signal);
		const reader = this.reader;
		if (reader === undefined)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`blob source "${this.uri}" is closed`,
			);
		let result: Awaited<ReturnType<BlobReader["read"]>>;
		try {
			result = await reader.read(
				AbortSignal.any([
					signal,
					AbortSignal.timeout(this.options.readTimeoutMs ?? 10_000),
				]),
				conditional ? this.version : undefined,
			);
		} catch (error: unknown) {
			throw error instanceof DaemonError
				? error
				: new DaemonError(
						"SOURCE_UNAVAILABLE",
						`blob source "${this.uri}": ${describeError(error)}`,
						{
							cause: error,
						},
					);
		}
		if (result.unchanged) return undefined;
		const text = stripBom(result.content);
		const hash = contentHash(text);
		if (conditional && hash === this.lastHash) {
			this.version = result.version;
			return undefined;
		}
		const format = formatForRemote(result.contentType, this.objectName);
		const verdict = checkFlagDocument(text, format);
		if (!verdict.ok)
			throw new DaemonError(
				"SOURCE_PAYLOAD_INVALID",
				`blob source "${this.uri}": ${verdict.reason}`,
			);
		this.version = result.version;
		this.lastHash = hash;
		return { source: this.uri, content: text, format };
	}
}
