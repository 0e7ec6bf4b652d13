/**
 * `http(s)://` source: polls a URL (flagd's HTTP sync). Conditional requests (`If-None-Match` with the last ETag,
 * 304 = unchanged) keep polls cheap; a body hash catches servers without ETags. The first fetch must succeed (flagd
 * exits otherwise); later failures are logged and retried at the next poll, keeping the last good state.
 *
 * Redirects are followed by hand (at most {@link MAX_REDIRECTS}): fetch would forward custom headers to another
 * origin (it strips only Authorization), so a redirect that leaves the configured origin keeps `Accept` and drops
 * every configured header. Logs and messages name the URL with its credentials redacted.
 */
import { DaemonError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logging/logger.js";
import { redactUri } from "../../logging/redact-uri.js";
import {
	checkFlagDocument,
	stripBom,
} from "../internal/check-flag-document.js";
import { contentHash } from "../internal/content-hash.js";
import { describeError } from "../internal/describe-error.js";
import { formatForRemote } from "../internal/document-format.js";
import { waitForNextPoll } from "../internal/poll-schedule.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";

export interface HttpSyncOptions {
	/** The URL; also the source id. */
	readonly uri: string;
	/** Full `Authorization` header value (`Bearer …`, `Basic …`). @default none */
	readonly authHeader?: string | undefined;
	/** Extra request headers. @default {} */
	readonly headers?: Readonly<Record<string, string>> | undefined;
	/** Poll interval. @default 5000 ms */
	readonly intervalMs?: number | undefined;
	/** Deterministic poll offset seed (FNV-1a), so replicas spread out. @default none */
	readonly intervalSeed?: string | undefined;
	/** Per-request timeout; 0 = none. @default 10000 ms (flagd's HTTP client timeout) */
	readonly timeoutMs?: number | undefined;
	readonly logger?: Logger | undefined;
	/** Clock for the poll schedule; a test seam. @default Date.now */
	readonly now?: (() => number) | undefined;
}

type FetchResult =
	| { readonly kind: "notModified" }
	| {
			readonly kind: "content";
			readonly payload: SyncPayload;
			readonly hash: string;
	  };

const ACCEPT = "application/json, application/yaml";
/** Redirects followed per request (Go's http.Client stops after 10). */
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([
	301, 302, 303, 307, 308,
]);
/** How much of an error response body goes into the message: enough to read a reason, not a page of HTML. */
const ERROR_BODY_CHARS = 200;

export class HttpSync implements SyncSource {
	readonly uri: string;
	/** The URI as logs and messages show it (credentials redacted). */
	private readonly label: string;
	private readonly url: URL;
	private readonly options: HttpSyncOptions;
	private readonly intervalMs: number;
	private readonly timeoutMs: number;
	private readonly logger: Logger;
	private ready = false;
	private etag: string | undefined;
	private lastHash: string | undefined;
	private lastProblem: string | undefined;

	constructor(options: HttpSyncOptions) {
		this.uri = options.uri;
		this.label = redactUri(options.uri);
		this.options = options;
		this.intervalMs = options.intervalMs ?? 5000;
		this.timeoutMs = options.timeoutMs ?? 10_000;
		this.logger = (options.logger ?? silentLogger).child({
			source: this.label,
			sync: "http",
		});
		try {
			this.url = new URL(options.uri);
		} catch (error: unknown) {
			throw new DaemonError(
				"SOURCE_URI_INVALID",
				`http source "${this.label}" is not a valid URL`,
				{ cause: error },
			);
		}
		if (this.url.protocol !== "http:" && this.url.protocol !== "https:") {
			throw new DaemonError(
				"SOURCE_URI_INVALID",
				`http source "${this.label}" must use http:// or https://`,
			);
		}
		if (!(this.intervalMs > 0))
			throw new DaemonError(
				"CONFIG_INVALID",
				`http source "${this.label}": intervalMs must be > 0`,
			);
	}

	async init(_signal: AbortSignal): Promise<void> {
		// Nothing to open: fetch keeps its own connection pool. Validation happened in the constructor.
	}

	isReady(): boolean {
		return this.ready;
	}

	async resync(signal: AbortSignal): Promise<SyncPayload> {
		const result = await this.fetchSnapshot(signal, false);
		if (result.kind !== "content")
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`http source "${this.label}" answered 304 to an unconditional request`,
			);
		this.lastHash = result.hash;
		return result.payload;
	}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		const first = await this.resync(signal);
		this.ready = true;
		yield first;
		const schedule = {
			intervalMs: this.intervalMs,
			intervalSeed: this.options.intervalSeed,
			now: this.options.now,
		};
		while (!signal.aborted) {
			await waitForNextPoll(schedule, signal);
			if (signal.aborted) break;
			const payload = await this.pollOnce(signal);
			if (payload !== undefined) yield payload;
		}
	}

	/** One scheduled poll: a payload for new good content, else undefined (unchanged, or logged failure). */
	private async pollOnce(
		signal: AbortSignal,
	): Promise<SyncPayload | undefined> {
		let result: FetchResult;
		try {
			result = await this.fetchSnapshot(signal, true);
		} catch (error: unknown) {
			if (!signal.aborted) this.report(describeError(error));
			return undefined;
		}
		if (result.kind === "notModified" || result.hash === this.lastHash) {
			this.recovered();
			return undefined;
		}
		this.recovered();
		this.lastHash = result.hash;
		return result.payload;
	}

	private report(problem: string): void {
		this.logger.warn(
			{ url: this.label, error: problem },
			"poll failed; keeping the last good flags and retrying at the next poll",
		);
		this.lastProblem = problem;
	}

	private recovered(): void {
		if (this.lastProblem === undefined) return;
		this.lastProblem = undefined;
		this.logger.info({ url: this.label }, "poll succeeded again");
	}

	private buildHeaders(conditional: boolean): Headers {
		const headers = new Headers({ Accept: ACCEPT });
		if (this.options.authHeader !== undefined && this.options.authHeader !== "")
			headers.set("Authorization", this.options.authHeader);
		for (const [name, value] of Object.entries(this.options.headers ?? {}))
			headers.set(name, value);
		if (conditional && this.etag !== undefined)
			headers.set("If-None-Match", this.etag);
		return headers;
	}

	private async fetchSnapshot(
		signal: AbortSignal,
		conditional: boolean,
	): Promise<FetchResult> {
		const requestSignal =
			this.timeoutMs > 0
				? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)])
				: signal;
		let response: Response;
		let text: string;
		try {
			response = await this.fetchFollowingRedirects(conditional, requestSignal);
			if (response.status === 304) {
				await response.body?.cancel();
				return { kind: "notModified" };
			}
			text = await response.text();
		} catch (error: unknown) {
			if (error instanceof DaemonError) throw error;
			const timedOut =
				!signal.aborted && (error as { name?: string }).name === "TimeoutError";
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				timedOut
					? `http source "${this.label}": no response within ${this.timeoutMs} ms`
					: `http source "${this.label}": request failed: ${describeError((error as { cause?: unknown }).cause ?? error)}`,
				{ cause: error },
			);
		}
		if (!response.ok) {
			const hint =
				response.status === 401 || response.status === 403
					? " (check authHeader)"
					: "";
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`http source "${this.label}": HTTP ${response.status} ${response.statusText}${hint}: ${text.slice(0, ERROR_BODY_CHARS)}`,
			);
		}
		return this.toResult(response, stripBom(text));
	}

	/** GET with redirects followed by hand; configured headers go only to the configured origin. */
	private async fetchFollowingRedirects(
		conditional: boolean,
		signal: AbortSignal,
	): Promise<Response> {
		let url = this.url;
		for (let redirects = 0; ; redirects++) {
			const sameOrigin = url.origin === this.url.origin;
			const response = await fetch(url, {
				headers: sameOrigin
					? this.buildHeaders(conditional)
					: new Headers({ Accept: ACCEPT }),
				signal,
				redirect: "manual",
			});
			const location = response.headers.get("location");
			if (!REDIRECT_STATUSES.has(response.status) || location === null)
				return response;
			await response.body?.cancel();
			if (redirects === MAX_REDIRECTS)
				throw new DaemonError(
					"SOURCE_UNAVAILABLE",
					`http source "${this.label}": more than ${MAX_REDIRECTS} redirects`,
				);
			const next = new URL(location, url);
			if (next.protocol !== "http:" && next.protocol !== "https:")
				throw new DaemonError(
					"SOURCE_UNAVAILABLE",
					`http source "${this.label}": redirect to a non-HTTP URL (${next.protocol})`,
				);
			url = next;
		}
	}

	private toResult(response: Response, text: string): FetchResult {
		const format = formatForRemote(
			response.headers.get("content-type"),
			this.url.pathname,
		);
		const hash = contentHash(text);
		if (hash !== this.lastHash) {
			const verdict = checkFlagDocument(text, format);
			if (!verdict.ok)
				throw new DaemonError(
					"SOURCE_PAYLOAD_INVALID",
					`http source "${this.label}": ${verdict.reason}`,
				);
		}
		// Only remember the ETag of content we accepted, so a rejected body is fetched (and re-checked) again.
		this.etag = response.headers.get("etag") ?? undefined;
		return {
			kind: "content",
			hash,
			payload: { source: this.uri, content: text, format },
		};
	}
}
