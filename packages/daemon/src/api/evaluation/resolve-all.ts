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
 *   request.
 * The parts are handed to protobuf-es as unknown fields of the response: it writes each as its tag followed by the
 * stored bytes, and the stored bytes are the encoded `flags` entries minus their first tag byte, so the wire bytes
 * are exactly those of a ResolveAllResponse holding every flag (a map is a repeated field 1; every decoder merges
 * its occurrences). A request thus no longer builds, copies and converts a message tree of every flag (10,000
 * flags: hundreds of thousands of short-lived objects, and a heap grown to hold them), only the bytes.
 * The JSON encodings cannot carry unknown fields and build the full message as before.
 */
import {
	create,
	type JsonObject,
	type JsonValue,
	toBinary,
	type UnknownField,
} from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import {
	type EvaluationResult,
	evaluateFlag,
	type FlagValueType,
} from "@flagd-ts/evaluator";
import {
	type AnyFlag,
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
import {
	anyFlagMessage,
	defineKey,
	resolveAllMessage,
} from "./prototype-safe-messages.js";

type AnyFlagInit = Pick<AnyFlag, "reason" | "variant" | "metadata"> & {
	value: AnyFlag["value"];
};

/** The tag of a `flags` map entry (field 1, length-delimited): the first byte of every encoded entry. */
const FLAGS_ENTRY_TAG = (1 << 3) | WireType.LengthDelimited;

/** What a view's ResolveAll answer needs beyond the request: its static part, encoded, and what is left to do. */
interface ViewAnswer {
	/** The static flags' entries as one unknown field; undefined when there are none. */
	readonly staticEntries: UnknownField | undefined;
	/** How many static flags the answer holds. */
	readonly staticCount: number;
	/** Static flags' results (also those left out of the answer), for the evaluation metrics. */
	readonly staticResults: readonly EvaluationResult[];
	/** Flags with targeting, evaluated per request, and (same index) the type each resolves with. */
	readonly targeted: readonly StoredFlag[];
	readonly targetedTypes: readonly FlagValueType[];
	/** The encoded entries of the targeted flags' shared results, built as requests meet them. */
	readonly encoded: EncodedEntries;
}

/**
 * Encoded `flags` entries (tag included) of the evaluator's shared result objects (see the file comment), for one
 * view: all in one growing buffer, found by result object. One buffer and one Map entry per result instead of a
 * typed array each; bounded by the flags' possible results (variants × reasons), as error results, mostly built
 * per evaluation, are not kept.
 */
class EncodedEntries {
	readonly #offsets = new Map<EvaluationResult, number>();
	#bytes: Buffer;
	#length = 0;

	constructor(expectedBytes: number) {
		// Not from Node's pool: this buffer lives as long as its view.
		this.#bytes = Buffer.allocUnsafeSlow(Math.max(256, expectedBytes));
	}

	/** Where a result's kept entry starts; -1 when it has none. */
	offsetOf(result: EvaluationResult): number {
		const offset = this.#offsets.get(result);
		return offset === undefined ? -1 : offset;
	}

	/** Keeps an encoded entry; returns its offset. */
	add(result: EvaluationResult, entry: Uint8Array): number {
		const offset = this.#length;
		const needed = offset + entry.length;
		if (needed > this.#bytes.length) {
			const grown = Buffer.allocUnsafeSlow(
				Math.max(needed, this.#bytes.length * 2),
			);
			this.#bytes.copy(grown, 0, 0, offset);
			this.#bytes = grown;
		}
		this.#bytes.set(entry, offset);
		this.#length = needed;
		this.#offsets.set(result, offset);
		return offset;
	}

	/** The length of the entry at `offset`: its tag byte, its length varint and the bytes the varint counts. */
	lengthAt(offset: number): number {
		const bytes = this.#bytes;
		let length = 0;
		let shift = 0;
		let at = offset + 1;
		for (;;) {
			const byte = bytes[at++] as number;
			length += (byte & 0x7f) * 2 ** shift;
			if (byte < 0x80) break;
			shift += 7;
		}
		return at - offset + length;
	}

	/** Copies the entry at `offset` (of `length` bytes) into `target` at `targetStart`. */
	copy(
		target: Uint8Array,
		targetStart: number,
		offset: number,
		length: number,
	): void {
		// A loop rather than Buffer#copy or subarray(): both make a typed-array view per call (per entry per request).
		const bytes = this.#bytes;
		for (let i = 0; i < length; i++)
			target[targetStart + i] = bytes[offset + i] as number;
	}
}

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

function buildViewAnswer(view: FlagView): ViewAnswer {
	const staticResults: EvaluationResult[] = [];
	const targeted: StoredFlag[] = [];
	const targetedTypes: FlagValueType[] = [];
	// Each static entry is encoded on its own and appended (its garbage dies young) rather than one message of
	// every static flag built and encoded at once (thousands of objects alive together, promoted to old space).
	const staticBytes = new ByteBuilder(view.byKey.size * 16);
	// In the order protobuf-es encodes a map held in a JS object: array-index keys first, ascending, then the others
	// in insertion order (the wire bytes are what a single encoded message would give).
	let indexEntries: { index: number; entry: Uint8Array }[] | undefined;
	let staticCount = 0;
	for (const [key, flag] of view.byKey) {
		const type = resolveAllType(flag);
		if (type === undefined) continue;
		if (flag.compiled.targeting !== undefined) {
			targeted.push(flag);
			targetedTypes.push(type);
			continue;
		}
		// No targeting: the result does not depend on the context (nor on the clock).
		const result = evaluateFlag(flag.compiled, type, {});
		staticResults.push(result);
		const entry = encodeEntry(key, result, type);
		if (entry === undefined) continue;
		staticCount++;
		const index = arrayIndexOf(key);
		if (index === undefined) staticBytes.append(entry);
		else {
			indexEntries ??= [];
			indexEntries.push({ index, entry });
		}
	}
	if (indexEntries !== undefined) {
		indexEntries.sort((a, b) => a.index - b.index);
		const rest = staticBytes.bytes();
		const ordered = new ByteBuilder(rest.length + indexEntries.length * 48);
		for (const { entry } of indexEntries) ordered.append(entry);
		ordered.append(rest);
		return viewAnswer(
			ordered,
			staticCount,
			staticResults,
			targeted,
			targetedTypes,
		);
	}
	return viewAnswer(
		staticBytes,
		staticCount,
		staticResults,
		targeted,
		targetedTypes,
	);
}

function viewAnswer(
	staticBytes: ByteBuilder,
	staticCount: number,
	staticResults: EvaluationResult[],
	targeted: StoredFlag[],
	targetedTypes: FlagValueType[],
): ViewAnswer {
	return {
		staticEntries:
			staticCount === 0
				? undefined
				: {
						no: 1,
						wireType: WireType.LengthDelimited,
						// The stored bytes leave out the first tag, which protobuf-es writes back.
						data: staticBytes.bytes().subarray(1),
					},
		staticCount,
		// Copies sized to fit (arrays grown by push keep spare capacity); kept as long as the view.
		staticResults: staticResults.slice(),
		targeted: targeted.slice(),
		targetedTypes: targetedTypes.slice(),
		encoded: new EncodedEntries(targeted.length * 48),
	};
}

/** The array index a JS object treats `key` as (such keys come first in property order), else undefined. */
function arrayIndexOf(key: string): number | undefined {
	if (!/^(?:0|[1-9]\d*)$/.test(key)) return undefined;
	const index = Number(key);
	return index < 2 ** 32 - 1 ? index : undefined;
}

/** Bytes appended into a growing buffer; `bytes()` copies them out at their exact length. */
class ByteBuilder {
	#buffer: Uint8Array;
	#length = 0;

	constructor(expectedBytes: number) {
		this.#buffer = new Uint8Array(Math.max(256, expectedBytes));
	}

	append(bytes: Uint8Array): void {
		const needed = this.#length + bytes.length;
		if (needed > this.#buffer.length) {
			const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
			grown.set(this.#buffer.subarray(0, this.#length));
			this.#buffer = grown;
		}
		this.#buffer.set(bytes, this.#length);
		this.#length = needed;
	}

	bytes(): Uint8Array {
		return this.#buffer.slice(0, this.#length);
	}
}

/** The encoded map entry (tag included) of one flag's result; undefined when ResolveAll leaves it out. */
function encodeEntry(
	key: string,
	result: EvaluationResult,
	type: FlagValueType,
): Uint8Array | undefined {
	const entry = renderAnyFlag(result, type);
	if (entry === undefined) return undefined;
	const flags: Record<string, object> = {};
	defineKey(flags, key, anyFlagMessage(entry as Record<string, unknown>));
	return encodeFlagsMap(flags);
}

/** A ResolveAllResponse holding only `flags`, encoded: the map's entries, each starting with its tag. */
function encodeFlagsMap(flags: Record<string, object>): Uint8Array {
	const message = create(ResolveAllResponseSchema);
	// Assigned after create(), which would copy the map by assignment and lose a "__proto__" key.
	message.flags = flags as ResolveAllResponse["flags"];
	const bytes = toBinary(ResolveAllResponseSchema, message);
	if (bytes[0] !== FLAGS_ENTRY_TAG)
		throw new Error("ResolveAll entries must start with the flags tag");
	return bytes;
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

/** The type a flag resolves with in ResolveAll; undefined leaves it out (v1 skips code-default flags). */
function resolveAllType(flag: StoredFlag): FlagValueType | undefined {
	const definition = flag.compiled.definition;
	if (definition.defaultVariant === null) return undefined;
	return typeOfValue(definition.variants[definition.defaultVariant]);
}

function renderAnyFlag(
	result: EvaluationResult,
	type: FlagValueType,
): AnyFlagInit | undefined {
	const metadata = result.metadata as JsonObject;
	if (result.errorCode !== undefined) {
		return {
			reason: "ERROR",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.reason === "DISABLED") {
		return {
			reason: "DISABLED",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.value === undefined || result.variant === undefined)
		return undefined;
	return {
		reason: result.reason,
		variant: result.variant,
		value: anyValue(type, result.value),
		metadata,
	};
}

/** The AnyFlag oneof for a value of a type; `undefined` gives the type's zero value. */
function anyValue(
	type: FlagValueType,
	value: JsonValue | undefined,
): AnyFlag["value"] {
	switch (type) {
		case "boolean":
			return {
				case: "boolValue",
				value: (value as boolean | undefined) ?? false,
			};
		case "string":
			return {
				case: "stringValue",
				value: (value as string | undefined) ?? "",
			};
		case "number":
		case "integer":
			return { case: "doubleValue", value: (value as number | undefined) ?? 0 };
		case "object":
			return {
				case: "objectValue",
				value: (value as JsonObject | undefined) ?? {},
			} as AnyFlag["value"];
	}
}

/** ResolveAll resolves each flag with the type of its default variant's value. */
function typeOfValue(value: JsonValue | undefined): FlagValueType | undefined {
	if (typeof value === "boolean") return "boolean";
	if (typeof value === "string") return "string";
	if (typeof value === "number") return "number";
	if (value !== null && typeof value === "object" && !Array.isArray(value))
		return "object";
	return undefined;
}
