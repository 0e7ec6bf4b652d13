/**
 * flagd.evaluation.v1 ResolveAll: every flag of the selector's view, each resolved with the type of its default
 * variant's value (flags without a default variant, or whose default value has no AnyFlag type, are left out).
 *
 * Binary encodings (gRPC, gRPC-web, Connect proto) are answered from bytes encoded once:
 * - A flag without targeting resolves the same for every context. Those flags are encoded once per view (store
 *   version + selector, FlagSetAnswerCache) by protobuf-es as a ResolveAllResponse holding only them.
 * - A targeted flag is evaluated per request; its result is one of the evaluator's shared, frozen result objects
 *   (one per variant and reason), so each result's encoded map entry is kept for the view (EncodedEntries: one
 *   buffer for all of them) and a request encodes nothing new for it. Per-request error results are encoded per
 *   request. What is kept per view is built in view-answer.ts.
 * The parts are handed to protobuf-es as unknown fields of the response: it writes each as its tag followed by the
 * stored bytes, and the stored bytes are the encoded `flags` entries minus their first tag byte, so the wire bytes
 * are exactly those of a ResolveAllResponse holding every flag (a map is a repeated field 1; every decoder merges
 * its occurrences). A request thus no longer builds, copies and converts a message tree of every flag (10,000
 * flags: hundreds of thousands of short-lived objects, and a heap grown to hold them), only the bytes.
 * The JSON encodings cannot carry unknown fields and build the full message as before.
 */
import { create, type JsonObject, type UnknownField } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import type { EvaluationResult, FlagValueType } from "@flagd-ts/evaluator";
import {
	type ResolveAllResponse,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import type { Span } from "@opentelemetry/api";
import {
	type FlagResolver,
	readRequest,
} from "../../resolver/flag-resolver.js";
import { FlagSetAnswerCache } from "../../store/flag-set-answer-cache.js";
import type { FlagView } from "../../store/flag-view.js";
import type { StoredFlag } from "../../store/stored-flag.js";
import { SPAN_ATTRIBUTES } from "../../telemetry/request-telemetry.js";
import { toConnectError } from "../connect-errors.js";
import { notReadyError } from "../not-ready.js";
import { encodeEntry } from "./encoded-entries.js";
import { defineKey, resolveAllMessage } from "./prototype-safe-messages.js";
import {
	type AnyFlagInit,
	renderAnyFlag,
	resolveAllType,
} from "./render-any-flag.js";
import { buildViewAnswer, type ViewAnswer } from "./view-answer.js";

/**
 * Per request, the targeted flags' entries before they are joined: an offset into the view's EncodedEntries, or
 * -1 - i for the i-th entry encoded for this request only. Reused across requests (ResolveAll is synchronous).
 */
let entryOffsets = new Int32Array(1024);
let entryLengths = new Int32Array(1024);

const viewAnswers = new FlagSetAnswerCache<ViewAnswer>(buildViewAnswer);

/** A ResolveAll answer: the response (a message, or a message init for connect) and how many flags it holds. */
export interface ResolveAllAnswer {
	readonly response:
		| ResolveAllResponse
		| { flags: Record<string, object>; metadata: JsonObject };
	readonly flagCount: number;
}

/** Serves one ResolveAll request (see the file comment). */
export function resolveAll(
	resolver: FlagResolver,
	bodyContext: JsonObject | undefined,
	ctx: HandlerContext,
	span: Span | undefined,
	/** Always build the full message (the JSON path), e.g. for a caller that reshapes it. @default false */
	fullMessage = false,
): ResolveAllAnswer {
	if (!resolver.store.isReady()) throw notReadyError();
	let request: ReturnType<typeof readRequest>;
	try {
		request = readRequest(resolver, bodyContext, ctx.requestHeader);
	} catch (e: unknown) {
		throw toConnectError(e);
	}
	const view = resolver.view(request.selector);
	const metadata = request.selector.reflection as JsonObject;
	if (fullMessage || !isBinaryEncoding(ctx.requestHeader.get("content-type"))) {
		const answer = resolveAllJson(resolver, view, request.context, metadata);
		span?.setAttribute(SPAN_ATTRIBUTES.flagCount, answer.flagCount);
		return answer;
	}
	const answer = viewAnswers.get(view);
	for (const result of answer.staticResults)
		recordEvaluation(resolver, result.flagKey, result);
	const entries: UnknownField[] = [];
	if (answer.staticEntries !== undefined) entries.push(answer.staticEntries);
	// The targeted flags' entries go out as ONE unknown field, copied from the view's encoded entries: handed over
	// one by one, protobuf-es would allocate a tag buffer and a chunk per entry (at 10,000 flags, tens of
	// thousands of short-lived objects per request, enough to be promoted out of a small young generation).
	const { targeted, targetedTypes, encoded } = answer;
	if (entryOffsets.length < targeted.length) {
		entryOffsets = new Int32Array(targeted.length);
		entryLengths = new Int32Array(targeted.length);
	}
	let uncached: Uint8Array[] | undefined;
	let targetedCount = 0;
	let targetedBytes = 0;
	for (let i = 0; i < targeted.length; i++) {
		const flag = targeted[i] as StoredFlag;
		const type = targetedTypes[i] as FlagValueType;
		const result = resolver.evaluate(flag, type, request.context);
		let offset = encoded.offsetOf(result);
		let length: number;
		if (offset >= 0) {
			length = encoded.lengthAt(offset);
		} else {
			const entry = encodeEntry(flag.key, result, type);
			if (entry === undefined) continue;
			length = entry.length;
			// Error results are mostly built per evaluation: keeping them would only hold memory.
			if (result.errorCode === undefined) offset = encoded.add(result, entry);
			else {
				uncached ??= [];
				uncached.push(entry);
				offset = -uncached.length;
			}
		}
		entryOffsets[targetedCount] = offset;
		entryLengths[targetedCount] = length;
		targetedCount++;
		targetedBytes += length;
	}
	if (targetedCount > 0) {
		const joined = new Uint8Array(targetedBytes);
		let at = 0;
		for (let i = 0; i < targetedCount; i++) {
			const offset = entryOffsets[i] as number;
			const length = entryLengths[i] as number;
			if (offset >= 0) encoded.copy(joined, at, offset, length);
			else
				joined.set((uncached as Uint8Array[])[-offset - 1] as Uint8Array, at);
			at += length;
		}
		entries.push({
			no: 1,
			wireType: WireType.LengthDelimited,
			data: joined.subarray(1),
		});
	}
	const flagCount = answer.staticCount + targetedCount;
	span?.setAttribute(SPAN_ATTRIBUTES.flagCount, flagCount);
	const response = create(ResolveAllResponseSchema, { metadata });
	if (entries.length > 0) response.$unknown = entries;
	return { response, flagCount };
}

/**
 * Whether a request's content type names a protobuf binary encoding (gRPC, gRPC-web and its text form, Connect
 * proto): only then is the response serialized by toBinary, which writes unknown fields. Anything else (the JSON
 * encodings, or a content type this code does not know) gets the full message.
 */
export function isBinaryEncoding(contentType: string | null): boolean {
	return (
		contentType !== null &&
		/^application\/(?:grpc(?:-web(?:-text)?)?(?:\+proto)?|proto|connect\+proto)\s*(?:;|$)/i.test(
			contentType,
		)
	);
}

/** Connect JSON: the full message, built per request (see the file comment). */
function resolveAllJson(
	resolver: FlagResolver,
	view: FlagView,
	context: JsonObject,
	metadata: JsonObject,
): ResolveAllAnswer {
	const flags: Record<string, AnyFlagInit> = {};
	let count = 0;
	for (const [key, flag] of view.byKey) {
		const type = resolveAllType(flag);
		if (type === undefined) continue;
		const result = resolver.evaluate(flag, type, context);
		const entry = renderAnyFlag(result, type);
		if (entry === undefined) continue;
		defineKey(flags, key, entry);
		count++;
	}
	return { response: resolveAllMessage({ flags, metadata }), flagCount: count };
}

function recordEvaluation(
	resolver: FlagResolver,
	key: string,
	result: EvaluationResult,
): void {
	resolver.metrics.recordEvaluation(
		key,
		result.reason,
		result.variant,
		result.errorCode,
	);
}
