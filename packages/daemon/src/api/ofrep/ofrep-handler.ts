/**
 * OFREP on its own port (8016): `POST /ofrep/v1/evaluate/flags/{key}` and bulk `POST /ofrep/v1/evaluate/flags`,
 * with flagd's status codes, the `Flagd-Selector` header, `-H` header mappings, a body limit (413), CORS, and an
 * ETag on bulk responses so `If-None-Match` gets 304 when nothing changed for that context (flagd#1854), and, when
 * an event stream is configured, `GET /ofrep/v1/sse` change notifications advertised in every bulk response
 * (ofrep-event-stream.ts).
 */
import { createHash } from "node:crypto";
import type { JsonObject } from "@flagd-ts/evaluator";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import {
	type FlagResolver,
	responseMetadata,
} from "../../resolver/flag-resolver.js";
import type { Selector } from "../../store/selector.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import {
	NO_REQUEST_TELEMETRY,
	observeEvaluation,
	type RequestTelemetry,
	requestIdOf,
	SPAN_ATTRIBUTES,
	startRequestSpan,
} from "../../telemetry/request-telemetry.js";
import { CorsPolicy } from "../../transport/cors-policy.js";
import type {
	NodeRequest,
	NodeResponse,
	RequestHandler,
} from "../../transport/http-listener.js";
import {
	NOT_READY_MESSAGE,
	NOT_READY_RETRY_AFTER_SECONDS,
} from "../not-ready.js";
import { exceedsJsonDepth, MAX_CONTEXT_DEPTH } from "./json-depth.js";
import { OFREP_SSE_PATH, type OfrepEventStream } from "./ofrep-event-stream.js";
import { errorItem, type OfrepItem, renderOfrepItem } from "./ofrep-render.js";

type Request = NodeRequest;
type Response = NodeResponse;

export interface OfrepHandlerOptions {
	readonly resolver: FlagResolver;
	readonly corsOrigins: readonly string[];
	/** 0 = no limit. */
	readonly maxRequestBodyBytes: number;
	readonly metrics: DaemonMetrics;
	/** Logs unexpected failures (never swallowed). */
	readonly onError: (error: unknown, path: string) => void;
	/** Spans (tracer flagd.ofrep.v1) and debug request logs. @default off */
	readonly telemetry?: RequestTelemetry;
	/** Change notifications (ADR-0008); without it there is no `/ofrep/v1/sse` and bulk responses advertise none. */
	readonly eventStream?: OfrepEventStream | undefined;
}

/** One request's span and id; undefined when tracing and debug logging are both off. */
interface Observed {
	readonly telemetry: RequestTelemetry;
	readonly span: Span | undefined;
	readonly requestId: string;
}

const API = "flagd.ofrep.v1";

const BULK_PATHS = new Set([
	"/ofrep/v1/evaluate/flags",
	"/ofrep/v1/evaluate/flags/",
]);
const SINGLE_PREFIX = "/ofrep/v1/evaluate/flags/";

/** See the file comment. */
export function createOfrepHandler(
	options: OfrepHandlerOptions,
): RequestHandler {
	const cors = new CorsPolicy(options.corsOrigins);
	const telemetry = options.telemetry ?? NO_REQUEST_TELEMETRY;
	const quiet =
		telemetry.tracing === undefined && telemetry.requestLogger === undefined;
	return (req, res) => {
		if (cors.handle(req, res)) return;
		const path = (req.url ?? "/").split("?")[0] ?? "/";
		if (path === OFREP_SSE_PATH && options.eventStream !== undefined) {
			serveEventStream(options.eventStream, req, res);
			return;
		}
		const bulk = BULK_PATHS.has(path);
		const key =
			!bulk && path.startsWith(SINGLE_PREFIX) ? flagKeyOf(path) : undefined;
		if (!bulk && key === undefined) {
			sendText(res, 404, "404 page not found\n");
			return;
		}
		if (req.method !== "POST") {
			res.setHeader("Allow", "POST");
			sendText(res, 405, "method not allowed\n");
			return;
		}
		const done = options.metrics.startRequest(
			bulk ? BULK_ROUTE : SINGLE_ROUTE,
			"POST",
			"http",
		);
		res.once("close", () => done(res.statusCode));
		const observed = quiet ? undefined : observe(telemetry, req, res, bulk);
		readBody(req, options.maxRequestBodyBytes).then(
			(body) => {
				if (body === undefined) {
					sendJson(res, 413, { errorDetails: "request body too large" }, true);
					return;
				}
				if (bulk)
					answerBulk(
						options.resolver,
						req,
						res,
						body,
						observed,
						options.eventStream,
					);
				else
					answerSingle(options.resolver, req, res, body, key ?? "", observed);
			},
			(e: unknown) => {
				options.onError(e, path);
				if (!res.headersSent) sendText(res, 400, "cannot read request body\n");
			},
		);
	};
}

/** Starts the request's span (ended with the response) and picks its request id. */
function observe(
	telemetry: RequestTelemetry,
	req: Request,
	res: Response,
	bulk: boolean,
): Observed {
	const getHeader = (name: string) => header(req, name);
	const requestId = requestIdOf(getHeader);
	const { tracing } = telemetry;
	if (tracing === undefined) return { telemetry, span: undefined, requestId };
	const span = startRequestSpan(
		tracing,
		tracing.ofrep,
		bulk ? "evaluateFlagsBulk" : "evaluateFlag",
		getHeader,
	);
	span.setAttribute(SPAN_ATTRIBUTES.requestId, requestId);
	res.once("close", () => {
		span.setAttribute("http.response.status_code", res.statusCode);
		if (res.statusCode >= 500 || !res.writableFinished) {
			span.setStatus({ code: SpanStatusCode.ERROR });
		}
		span.end();
	});
	return { telemetry, span, requestId };
}

const BULK_ROUTE = "/ofrep/v1/evaluate/flags";
const SINGLE_ROUTE = "/ofrep/v1/evaluate/flags/{key}";

function flagKeyOf(path: string): string | undefined {
	const raw = path.slice(SINGLE_PREFIX.length);
	if (raw === "" || raw.includes("/")) return undefined;
	try {
		return decodeURIComponent(raw);
	} catch {
		return undefined; // malformed %-escape: no such route
	}
}

interface Prepared {
	readonly selector: Selector;
	readonly context: JsonObject;
}

/** Parses body and selector; answers the error itself and returns undefined when either is invalid. */
function prepare(
	resolver: FlagResolver,
	req: Request,
	res: Response,
	body: Buffer,
	key: string | undefined,
): Prepared | undefined {
	let parsed: unknown = {};
	if (body.length > 0) {
		try {
			parsed = JSON.parse(body.toString("utf8"));
		} catch {
			sendItem(
				res,
				errorItem(
					400,
					key,
					"INVALID_CONTEXT",
					"Provider context is not valid",
					null,
				),
			);
			return undefined;
		}
	}
	let selector: Selector;
	try {
		selector = resolver.selector(header(req, "flagd-selector"));
	} catch (e: unknown) {
		const message = e instanceof Error ? e.message : String(e);
		sendItem(res, errorItem(400, key, "GENERAL", message, {}));
		return undefined;
	}
	const bodyContext =
		parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
			? (parsed as { context?: unknown }).context
			: undefined;
	if (exceedsJsonDepth(bodyContext, MAX_CONTEXT_DEPTH)) {
		sendItem(
			res,
			errorItem(
				400,
				key,
				"INVALID_CONTEXT",
				`context is nested more than ${MAX_CONTEXT_DEPTH} levels deep`,
				null,
			),
		);
		return undefined;
	}
	// A non-object context is ignored, as flagd does.
	const usable =
		bodyContext !== null &&
		typeof bodyContext === "object" &&
		!Array.isArray(bodyContext)
			? bodyContext
			: {};
	return {
		selector,
		context: resolver.contexts.build(usable, (name) => header(req, name)),
	};
}

function answerSingle(
	resolver: FlagResolver,
	req: Request,
	res: Response,
	body: Buffer,
	key: string,
	observed: Observed | undefined,
): void {
	const prepared = prepare(resolver, req, res, body, key);
	if (prepared === undefined) return;
	const result = resolver.resolve(
		key,
		"any",
		prepared.selector,
		prepared.context,
	);
	if (observed !== undefined) {
		observeEvaluation(
			observed.telemetry,
			observed.span,
			{ api: API, requestId: observed.requestId, key },
			result,
		);
	}
	const metadata =
		result.errorCode === "FLAG_NOT_FOUND"
			? {}
			: responseMetadata(prepared.selector, result.metadata);
	sendItem(res, renderOfrepItem(result, metadata));
}

function answerBulk(
	resolver: FlagResolver,
	req: Request,
	res: Response,
	body: Buffer,
	observed: Observed | undefined,
	eventStream: OfrepEventStream | undefined,
): void {
	if (!resolver.store.isReady()) {
		res.setHeader("Retry-After", String(NOT_READY_RETRY_AFTER_SECONDS));
		sendJson(
			res,
			503,
			{ errorCode: "GENERAL", errorDetails: NOT_READY_MESSAGE },
			false,
		);
		return;
	}
	const prepared = prepare(resolver, req, res, body, undefined);
	if (prepared === undefined) return;
	const flags: Record<string, unknown>[] = [];
	for (const flag of resolver.view(prepared.selector).list) {
		const result = resolver.evaluate(flag, "any", prepared.context);
		flags.push(
			renderOfrepItem(
				result,
				responseMetadata(prepared.selector, result.metadata),
			).body,
		);
	}
	if (observed !== undefined) {
		observed.span?.setAttribute(SPAN_ATTRIBUTES.flagCount, flags.length);
		observed.telemetry.requestLogger?.debug(
			{ api: API, requestId: observed.requestId, flagCount: flags.length },
			"flags evaluated (bulk)",
		);
	}
	// `sseEtag`/`sseLastModified` (and 0.4 providers' `flagConfigEtag`/`flagConfigLastModified`) only say an event
	// triggered this request; the answer is always current, so only If-None-Match can make it a 304.
	const text = JSON.stringify({
		flags,
		metadata: prepared.selector.reflection,
		...eventStream?.advertise(req, prepared.selector),
	});
	const etag = `"${createHash("sha1").update(text).digest("base64url")}"`;
	res.setHeader("ETag", etag);
	if (matchesEtag(header(req, "if-none-match"), etag)) {
		res.writeHead(304);
		res.end();
		return;
	}
	res.writeHead(200, { "Content-Type": "application/json" });
	res.end(text);
}

/** `GET /ofrep/v1/sse[?selector=<Flagd-Selector expression>]`; Go flagd's `?channels=<flagSetId>` is read too. */
function serveEventStream(
	eventStream: OfrepEventStream,
	req: Request,
	res: Response,
): void {
	if (req.method !== "GET") {
		res.setHeader("Allow", "GET");
		sendText(res, 405, "method not allowed\n");
		return;
	}
	const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
	const channel = query.get("channels");
	const selector =
		query.get("selector") ??
		(channel === null || channel === "" ? undefined : `flagSetId=${channel}`) ??
		header(req, "flagd-selector");
	eventStream.handle(req, res, selector);
}

function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
	if (ifNoneMatch === undefined) return false;
	return ifNoneMatch.split(",").some((tag) => {
		const t = tag.trim();
		return t === "*" || t === etag || t === `W/${etag}`;
	});
}

function header(req: Request, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value.join(", ") : value;
}

/** The body, or undefined when it exceeds `limit` (then the rest is not read and the connection closes). */
function readBody(req: Request, limit: number): Promise<Buffer | undefined> {
	const declared = Number(req.headers["content-length"] ?? "0");
	if (limit > 0 && declared > limit) return Promise.resolve(undefined);
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const onData = (chunk: Buffer) => {
			size += chunk.length;
			if (limit > 0 && size > limit) {
				req.off("data", onData);
				resolve(undefined);
				return;
			}
			chunks.push(chunk);
		};
		req.on("data", onData);
		req.once("end", () => resolve(Buffer.concat(chunks)));
		req.once("error", reject);
	});
}

function sendItem(res: Response, item: OfrepItem): void {
	sendJson(res, item.status, item.body, false);
}

function sendJson(
	res: Response,
	status: number,
	body: unknown,
	close: boolean,
): void {
	const headers: Record<string, string> = {
		"Content-Type": "application/json",
	};
	// After refusing an oversized body the rest of it is unread: close rather than parse it as the next request.
	if (
		close &&
		"httpVersionMajor" in res.req &&
		res.req.httpVersionMajor === 1
	) {
		headers.Connection = "close";
	}
	res.writeHead(status, headers);
	res.end(JSON.stringify(body));
}

function sendText(res: Response, status: number, text: string): void {
	res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
	res.end(text);
}
