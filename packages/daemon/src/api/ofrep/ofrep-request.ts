/**
 * Reading an OFREP request: the body (with the size limit), headers, the flag key in the path, and the evaluation
 * request itself (body JSON → context with the depth limit, `Flagd-Selector` → selector). Invalid input is
 * answered here with flagd's error items.
 */
import type { JsonObject } from "@flagd-ts/evaluator";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import type { Selector } from "../../store/selector.js";
import type {
	NodeRequest,
	NodeResponse,
} from "../../transport/http-listener.js";
import { exceedsJsonDepth, MAX_CONTEXT_DEPTH } from "./json-depth.js";
import { errorItem } from "./ofrep-render.js";
import { sendItem } from "./ofrep-response.js";

export const BULK_PATH = "/ofrep/v1/evaluate/flags";
const BULK_PATH_SLASH = `${BULK_PATH}/`;
const SINGLE_PREFIX = `${BULK_PATH}/`;

/** What a path asks for: the bulk endpoint, one flag by key, or nothing OFREP evaluates. */
export type OfrepRoute =
	| { readonly bulk: true }
	| { readonly bulk: false; readonly key: string }
	| undefined;

const BULK_ROUTE: OfrepRoute = { bulk: true };

export function routeOf(path: string): OfrepRoute {
	// Compared, not looked up in a set: a path is a new string per request, and hashing it costs more.
	if (path === BULK_PATH || path === BULK_PATH_SLASH) return BULK_ROUTE;
	if (!path.startsWith(SINGLE_PREFIX)) return undefined;
	const raw = path.slice(SINGLE_PREFIX.length);
	if (raw === "" || raw.includes("/")) return undefined;
	// Most keys have no %-escape: nothing to decode.
	if (!raw.includes("%")) return { bulk: false, key: raw };
	try {
		return { bulk: false, key: decodeURIComponent(raw) };
	} catch {
		return undefined; // malformed %-escape: no such route
	}
}

/** One header as a string (repeated headers joined as Node joins them). */
export function header(req: NodeRequest, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Reads the body and calls `done` with it, or with undefined when it exceeds `limit` (then the rest is not read
 * and the connection closes). A request whose client goes away before the end never calls `done`: there is no one
 * to answer. No 'error' listener, which would cost one more per request for nothing: node:http emits 'error' on a
 * request only when one is attached, and only for that ('aborted'); node:http2's compatibility request never does.
 */
export function readBody(
	req: NodeRequest,
	limit: number,
	done: (body: Buffer | undefined) => void,
): void {
	const declared = Number(req.headers["content-length"] ?? "0");
	if (limit > 0 && declared > limit) {
		done(undefined);
		return;
	}
	let first: Buffer | undefined;
	let more: Buffer[] | undefined;
	let size = 0;
	let settled = false;
	const onData = (chunk: Buffer) => {
		if (settled) return;
		size += chunk.length;
		if (limit > 0 && size > limit) {
			settled = true;
			req.off("data", onData);
			done(undefined);
			return;
		}
		if (first === undefined) first = chunk;
		else if (more === undefined) more = [first, chunk];
		else more.push(chunk);
	};
	req.on("data", onData);
	// `on`, not `once`: 'end' comes at most once, and `settled` skips it after a refusal.
	req.on("end", () => {
		if (settled) return;
		settled = true;
		done(more !== undefined ? Buffer.concat(more) : (first ?? EMPTY));
	});
}

const EMPTY = Buffer.alloc(0);

/** A valid evaluation request. */
export interface OfrepEvaluationRequest {
	readonly selector: Selector;
	readonly context: JsonObject;
}

/** Parses body and selector; answers the error itself and returns undefined when either is invalid. */
export function readEvaluationRequest(
	resolver: FlagResolver,
	req: NodeRequest,
	res: NodeResponse,
	body: Buffer,
	key: string | undefined,
): OfrepEvaluationRequest | undefined {
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
