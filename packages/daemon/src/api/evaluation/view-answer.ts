/**
 * The part of a ResolveAll answer that depends only on the view (store version + selector), built once per view
 * for the binary encodings (resolve-all.ts): the static flags' `flags` entries encoded into one buffer, in the order
 * one encoded message would put them, and the targeted flags left to evaluate per request with the buffer their
 * shared results' entries are kept in. Apart from the request handling so that what is kept per view, and how its
 * bytes are laid out, reads on its own.
 */
import type { UnknownField } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
	type EvaluationResult,
	evaluateFlag,
	type FlagValueType,
} from "@flagd-ts/evaluator";
import type { FlagView } from "../../store/flag-view.js";
import type { StoredFlag } from "../../store/stored-flag.js";
import { ByteBuilder, EncodedEntries, encodeEntry } from "./encoded-entries.js";
import { resolveAllType } from "./render-any-flag.js";

/** What a view's ResolveAll answer needs beyond the request: its static part, encoded, and what is left to do. */
export interface ViewAnswer {
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

/** Builds a view's {@link ViewAnswer}: every flag's type, each static flag evaluated and encoded once. */
export function buildViewAnswer(view: FlagView): ViewAnswer {
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
