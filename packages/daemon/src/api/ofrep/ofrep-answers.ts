/**
 * The evaluation answers of OFREP: one flag (`POST /ofrep/v1/evaluate/flags/{key}`) or all flags a selector sees
 * (bulk, with an ETag so `If-None-Match` gets 304 when nothing changed for that context, flagd#1854).
 *
 * An answer depends only on the flags, the selector, the request body and the header-mapped context values (and,
 * for bulk with an event stream, the Host the stream URL is built from) — unless a flag's rule reads the clock
 * (`$flagd.timestamp`, or the whole injected `$flagd`). Answers without such flags are encoded once and replayed
 * from an {@link AnswerCache} keyed by exactly those inputs, per flag-store version; a replay still records every
 * evaluation in the metrics and the request's span, as a fresh evaluation would.
 */

import { createHash } from "node:crypto";
import type { EvaluationResult } from "@flagd-ts/evaluator";
import type { Span } from "@opentelemetry/api";
import {
	type FlagResolver,
	responseMetadata,
} from "../../resolver/flag-resolver.js";
import { readsClock } from "../../resolver/reads-clock.js";
import type { FlagView } from "../../store/flag-view.js";
import type { EvaluationTally } from "../../telemetry/daemon-metrics.js";
import {
	observeEvaluation,
	type RequestTelemetry,
	SPAN_ATTRIBUTES,
} from "../../telemetry/request-telemetry.js";
import type {
	NodeRequest,
	NodeResponse,
} from "../../transport/http-listener.js";
import { AnswerCache } from "../answer-cache.js";
import {
	NOT_READY_MESSAGE,
	NOT_READY_RETRY_AFTER_SECONDS,
} from "../not-ready.js";
import type { OfrepEventStream } from "./ofrep-event-stream.js";
import { renderOfrepItem } from "./ofrep-render.js";
import { header, readEvaluationRequest } from "./ofrep-request.js";
import {
	type EncodedResponse,
	sendEncoded,
	sendJson,
} from "./ofrep-response.js";

/** One request's span and id; undefined when tracing and debug logging are both off. */
export interface Observed {
	readonly telemetry: RequestTelemetry;
	readonly span: Span | undefined;
	readonly requestId: string;
}

/** An encoded answer and the evaluations behind it (replayed into metrics and spans). */
interface OfrepAnswer extends EncodedResponse {
	readonly results: readonly EvaluationResult[];
	/** The metric series the evaluations counted (a replay counts them again). */
	readonly tallies: readonly EvaluationTally[];
	readonly bytes: number;
}

const API = "flagd.ofrep.v1";
/** Requests with larger bodies are answered but not cached (their keys would crowd out the common ones). */
const MAX_CACHED_BODY_BYTES = 4 * 1024;

export interface OfrepAnswersOptions {
	readonly resolver: FlagResolver;
	readonly eventStream: OfrepEventStream | undefined;
	/** Header names (lower case) whose values enter the context (`-H`). */
	readonly contextHeaders: readonly string[];
}

/** See the file comment. */
export class OfrepAnswers {
	readonly #resolver: FlagResolver;
	readonly #eventStream: OfrepEventStream | undefined;
	readonly #contextHeaders: readonly string[];
	readonly #cache = new AnswerCache<OfrepAnswer>();
	/** Whether a view's answers can be cached (no flag reads the clock); per view, so per store version. */
	readonly #cacheableViews = new WeakMap<FlagView, boolean>();

	constructor(options: OfrepAnswersOptions) {
		this.#resolver = options.resolver;
		this.#eventStream = options.eventStream;
		this.#contextHeaders = options.contextHeaders;
	}

	/** Answers `POST /ofrep/v1/evaluate/flags/{key}`. */
	single(
		req: NodeRequest,
		res: NodeResponse,
		body: Buffer,
		key: string,
		observed: Observed | undefined,
	): void {
		const version = this.#resolver.store.version;
		const cacheKey = this.#cacheKey(req, body, `1${key}`, false);
		const cached =
			cacheKey === undefined ? undefined : this.#cache.get(version, cacheKey);
		if (cached !== undefined) {
			this.#replay(cached, observed, key);
			sendEncoded(res, cached, undefined);
			return;
		}
		const request = readEvaluationRequest(this.#resolver, req, res, body, key);
		if (request === undefined) return;
		const view = this.#resolver.view(request.selector);
		const { value: result, tallies } =
			this.#resolver.metrics.captureEvaluations(() =>
				this.#resolver.resolve(key, "any", request.selector, request.context),
			);
		if (observed !== undefined) observeResult(observed, key, result);
		const metadata =
			result.errorCode === "FLAG_NOT_FOUND"
				? {}
				: responseMetadata(request.selector, result.metadata);
		const item = renderOfrepItem(result, metadata);
		const text = JSON.stringify(item.body);
		const answer: OfrepAnswer = {
			status: item.status,
			// With its length known up front node:http sends no chunked framing (fewer bytes and writes).
			headers: [
				"Content-Type",
				"application/json",
				"Content-Length",
				String(Buffer.byteLength(text)),
			],
			body: text,
			etag: undefined,
			results: [result],
			tallies,
			bytes: text.length,
		};
		const flag = view.byKey.get(key);
		if (
			cacheKey !== undefined &&
			(flag === undefined || !readsClock(flag.compiled))
		)
			this.#cache.set(view.version, cacheKey, answer);
		sendEncoded(res, answer, undefined);
	}

	/** Answers `POST /ofrep/v1/evaluate/flags`. */
	bulk(
		req: NodeRequest,
		res: NodeResponse,
		body: Buffer,
		observed: Observed | undefined,
	): void {
		const resolver = this.#resolver;
		if (!resolver.store.isReady()) {
			res.setHeader("Retry-After", String(NOT_READY_RETRY_AFTER_SECONDS));
			sendJson(res, 503, {
				errorCode: "GENERAL",
				errorDetails: NOT_READY_MESSAGE,
			});
			return;
		}
		const version = resolver.store.version;
		const cacheKey = this.#cacheKey(req, body, "*", true);
		const ifNoneMatch = header(req, "if-none-match");
		const cached =
			cacheKey === undefined ? undefined : this.#cache.get(version, cacheKey);
		if (cached !== undefined) {
			this.#replay(cached, observed, undefined);
			sendEncoded(res, cached, ifNoneMatch);
			return;
		}
		const request = readEvaluationRequest(resolver, req, res, body, undefined);
		if (request === undefined) return;
		const view = resolver.view(request.selector);
		const results: EvaluationResult[] = [];
		const flags: Record<string, unknown>[] = [];
		const { tallies } = resolver.metrics.captureEvaluations(() => {
			for (const flag of view.list) {
				const result = resolver.evaluate(flag, "any", request.context);
				results.push(result);
				flags.push(
					renderOfrepItem(
						result,
						responseMetadata(request.selector, result.metadata),
					).body,
				);
			}
		});
		if (observed !== undefined) observeBulk(observed, results.length);
		// `sseEtag`/`sseLastModified` (and 0.4 providers' `flagConfigEtag`/`flagConfigLastModified`) only say an
		// event triggered this request; the answer is always current, so only If-None-Match can make it a 304.
		const text = JSON.stringify({
			flags,
			metadata: request.selector.reflection,
			...this.#eventStream?.advertise(req, request.selector),
		});
		const etag = `"${createHash("sha1").update(text).digest("base64url")}"`;
		const answer: OfrepAnswer = {
			status: 200,
			headers: [
				"ETag",
				etag,
				"Content-Type",
				"application/json",
				"Content-Length",
				String(Buffer.byteLength(text)),
			],
			body: text,
			etag,
			results,
			tallies,
			bytes: text.length,
		};
		if (cacheKey !== undefined && this.#cacheable(view))
			this.#cache.set(view.version, cacheKey, answer);
		sendEncoded(res, answer, ifNoneMatch);
	}

	/**
	 * Everything an answer depends on besides the flags: route, selector header, mapped headers, body (and the
	 * Host the advertised stream URL is built from). Undefined: too large to cache.
	 */
	#cacheKey(
		req: NodeRequest,
		body: Buffer,
		route: string,
		advertises: boolean,
	): string | undefined {
		if (body.length > MAX_CACHED_BODY_BYTES) return undefined;
		let key = `${route}\u0000${header(req, "flagd-selector") ?? ""}`;
		for (const name of this.#contextHeaders)
			key += `\u0000${header(req, name) ?? "\u0001"}`;
		if (advertises && this.#eventStream !== undefined) {
			// The advertised stream URL is built from the Host and the scheme (ofrep-event-stream.ts).
			const tls = "encrypted" in req.socket && req.socket.encrypted === true;
			key += `\u0000${tls ? "s" : ""}${header(req, ":authority") ?? header(req, "host") ?? ""}`;
		}
		// latin1 maps every byte to one char: distinct bodies give distinct keys.
		return `${key}\u0000${body.toString("latin1")}`;
	}

	#cacheable(view: FlagView): boolean {
		let cacheable = this.#cacheableViews.get(view);
		if (cacheable === undefined) {
			cacheable = !view.list.some((flag) => readsClock(flag.compiled));
			this.#cacheableViews.set(view, cacheable);
		}
		return cacheable;
	}

	/** What a fresh evaluation records: metrics per flag, and the span/log of the request. */
	#replay(
		answer: OfrepAnswer,
		observed: Observed | undefined,
		key: string | undefined,
	): void {
		this.#resolver.metrics.replayEvaluations(answer.tallies);
		if (observed === undefined) return;
		const first = answer.results[0];
		if (key !== undefined && first !== undefined)
			observeResult(observed, key, first);
		else if (key === undefined) observeBulk(observed, answer.results.length);
	}
}

function observeResult(
	observed: Observed,
	key: string,
	result: EvaluationResult,
): void {
	observeEvaluation(
		observed.telemetry,
		observed.span,
		{ api: API, requestId: observed.requestId, key },
		result,
	);
}

function observeBulk(observed: Observed, flagCount: number): void {
	observed.span?.setAttribute(SPAN_ATTRIBUTES.flagCount, flagCount);
	observed.telemetry.requestLogger?.debug(
		{ api: API, requestId: observed.requestId, flagCount },
		"flags evaluated (bulk)",
	);
}
