import type { EvaluationContext } from "@openfeature/web-sdk";
import {
	type OfrepWebProviderConfig,
	toHeaderPairs,
} from "./ofrep-web-provider-options.js";

/** One flag of a bulk answer, as OFREP sends it (success or per-flag error). */
export interface OfrepFlagItem {
	readonly key: string;
	readonly value?: unknown;
	readonly variant?: string;
	readonly reason?: string;
	readonly errorCode?: string;
	readonly errorDetails?: string;
	readonly metadata?: Record<string, unknown>;
}

/** A bulk answer the provider keeps (and persists). */
export interface OfrepBulkSnapshot {
	readonly flags: readonly OfrepFlagItem[];
	readonly metadata: Record<string, unknown>;
	/** Absolute URLs of the advertised SSE streams. */
	readonly streams: readonly string[];
	/** The server's inactivity delay for its streams, if it sent one. */
	readonly inactivityDelaySec: number | undefined;
	/** The response's ETag, sent back as If-None-Match. */
	readonly etag: string | null;
}

export type OfrepBulkResult =
	| { readonly status: 200; readonly snapshot: OfrepBulkSnapshot }
	| { readonly status: 304 };

/** What a `refetchEvaluation` event said; sent back as query parameters as ofrep-web-provider does. */
export interface OfrepRefetchHint {
	readonly etag?: string;
	readonly lastModified?: string | number;
}

/**
 * A failed bulk request. `fatal` marks answers that retrying cannot fix (401, 403, 400 with an error code);
 * `retryAfterMs` is set from a 429's or 503's Retry-After.
 */
export class OfrepRequestError extends Error {
	constructor(
		message: string,
		readonly status: number | undefined,
		readonly fatal: boolean,
		readonly errorCode?: string,
		readonly retryAfterMs?: number,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.name = "OfrepRequestError";
	}
}

const BULK_PATH = "/ofrep/v1/evaluate/flags";

/** `POST /ofrep/v1/evaluate/flags` with If-None-Match, the selector header and a timeout. */
export async function fetchOfrepBulk(
	config: OfrepWebProviderConfig,
	context: EvaluationContext,
	etag: string | null,
	hint: OfrepRefetchHint | undefined,
	signal: AbortSignal,
): Promise<OfrepBulkResult> {
	const query = new URLSearchParams(config.query);
	if (hint?.etag !== undefined) query.set("flagConfigEtag", hint.etag);
	if (hint?.lastModified !== undefined) {
		query.set("flagConfigLastModified", String(hint.lastModified));
	}
	const qs = query.toString();
	const headers = new Headers(config.headers);
	if (config.headersFactory !== undefined) {
		for (const [name, value] of toHeaderPairs(
			await config.headersFactory(),
			"headersFactory",
		)) {
			headers.append(name, value);
		}
	}
	headers.set("Content-Type", "application/json");
	if (config.selector !== undefined)
		headers.set("Flagd-Selector", config.selector);
	if (etag !== null) headers.set("If-None-Match", etag);
	const timeout = new AbortController();
	const timer = setTimeout(
		() =>
			timeout.abort(
				new Error(`no answer within timeoutMs (${config.timeoutMs} ms)`),
			),
		config.timeoutMs,
	);
	const onAbort = () => timeout.abort(signal.reason);
	signal.addEventListener("abort", onAbort);
	const url = `${config.baseUrl}${BULK_PATH}${qs === "" ? "" : `?${qs}`}`;
	try {
		let response: Response;
		try {
			response = await config.fetchImplementation(url, {
				method: "POST",
				headers,
				body: JSON.stringify({ context }),
				signal: timeout.signal,
			});
		} catch (e: unknown) {
			const reason = timeout.signal.aborted ? timeout.signal.reason : e;
			throw new OfrepRequestError(
				`OFREP bulk request to ${url} failed: ${reason instanceof Error ? reason.message : String(reason)}`,
				undefined,
				false,
				undefined,
				undefined,
				{ cause: reason },
			);
		}
		if (response.status === 304) {
			await response.body?.cancel();
			return { status: 304 };
		}
		const text = await response.text();
		if (response.status !== 200) throw errorOf(response, text);
		return { status: 200, snapshot: parseBulk(text, response, config.baseUrl) };
	} finally {
		clearTimeout(timer);
		signal.removeEventListener("abort", onAbort);
	}
}

function errorOf(response: Response, text: string): OfrepRequestError {
	const { status } = response;
	let code: string | undefined;
	let details = "";
	try {
		const body = JSON.parse(text) as {
			errorCode?: unknown;
			errorDetails?: unknown;
		};
		if (typeof body.errorCode === "string") code = body.errorCode;
		if (typeof body.errorDetails === "string")
			details = `: ${body.errorDetails}`;
	} catch {
		details = text === "" ? "" : `: ${text.slice(0, 200).trim()}`;
	}
	const retryAfter = Number(response.headers.get("Retry-After"));
	const fatal =
		status === 401 || status === 403 || (status === 400 && code !== undefined);
	return new OfrepRequestError(
		`OFREP bulk request answered ${status}${code === undefined ? "" : ` ${code}`}${details}`,
		status,
		fatal,
		code,
		Number.isFinite(retryAfter) && retryAfter > 0
			? retryAfter * 1000
			: undefined,
	);
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the body's shape; a response that is not an OFREP bulk answer is an error, not an empty flag set. */
export function parseBulk(
	text: string,
	response: Pick<Response, "headers">,
	baseUrl: string,
): OfrepBulkSnapshot {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new OfrepRequestError("OFREP bulk response is not JSON", 200, false);
	}
	if (!isObject(body) || !Array.isArray(body.flags)) {
		throw new OfrepRequestError(
			"OFREP bulk response has no flags array",
			200,
			false,
		);
	}
	const flags: OfrepFlagItem[] = [];
	for (const item of body.flags) {
		if (isObject(item) && typeof item.key === "string") {
			flags.push(item as unknown as OfrepFlagItem);
		}
	}
	// flagd advertises each stream twice (0.4's `eventStreams`, the ADR's `refreshConnections`): use one list.
	const list = Array.isArray(body.eventStreams)
		? body.eventStreams
		: Array.isArray(body.refreshConnections)
			? body.refreshConnections
			: [];
	const advertised = list.filter(
		(s): s is Record<string, unknown> => isObject(s) && s.type === "sse",
	);
	const streams = new Set<string>();
	let inactivityDelaySec: number | undefined;
	for (const stream of advertised) {
		const url = streamUrl(stream, baseUrl);
		if (url !== undefined) streams.add(url);
		const delay = stream.inactivityDelaySec;
		if (
			inactivityDelaySec === undefined &&
			typeof delay === "number" &&
			delay >= 0
		) {
			inactivityDelaySec = delay;
		}
	}
	return {
		flags,
		metadata: isObject(body.metadata) ? body.metadata : {},
		streams: [...streams],
		inactivityDelaySec,
		etag: response.headers.get("ETag"),
	};
}

/** ADR-0008's `url`, or ofrep-web-provider 0.4's `endpoint` (origin defaults to the base URL's). */
function streamUrl(
	stream: Record<string, unknown>,
	baseUrl: string,
): string | undefined {
	try {
		const base = new URL(
			baseUrl,
			typeof location === "undefined" ? undefined : location.href,
		);
		if (typeof stream.url === "string") return new URL(stream.url, base).href;
		const endpoint = stream.endpoint;
		if (isObject(endpoint) && typeof endpoint.requestUri === "string") {
			const origin =
				typeof endpoint.origin === "string" ? endpoint.origin : base.origin;
			return new URL(endpoint.requestUri, origin).href;
		}
	} catch {
		// An unusable URL is skipped like an unknown stream type.
	}
	return undefined;
}
