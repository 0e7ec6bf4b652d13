import {
	type CompiledFlag,
	type CompileFlagOptions,
	compileFlag,
} from "./compile-flag.js";
import { EvaluatorError } from "./errors.js";
import { type EvaluateOptions, evaluateFlag } from "./evaluate-flag.js";
import { flagNotFound } from "./evaluation-results.js";
import type {
	EvaluationContext,
	EvaluationResult,
	FlagDocument,
	ParseResult,
	RequestedType,
} from "./types.js";

/**
 * A convenience for in-process use and the conformance testkit: holds one document's compiled flags by key.
 * The daemon keeps its own store (flag sets, sources, priorities) and calls {@link compileFlag} / {@link evaluateFlag}
 * directly. When a document holds the same key in several flag sets, the last one wins here.
 */
export class FlagEvaluator {
	private compiled = new Map<string, CompiledFlag>();
	private readonly compileOptions: CompileFlagOptions;

	/** `options` apply to every flag compiled by {@link setDocument} (e.g. `fractional: "v3"`). */
	constructor(options: CompileFlagOptions = {}) {
		this.compileOptions = options;
	}

	/**
	 * Replaces all flags with those of `document` (a parsed document, or an `ok` parse result). Compiles every rule
	 * once, here. Throws an {@link EvaluatorError} (`INVALID_FLAG_DOCUMENT`) for a rejected parse result, and keeps
	 * the previous flags in that case.
	 */
	setDocument(document: FlagDocument | ParseResult): void {
		let doc: FlagDocument;
		if ("ok" in document) {
			if (!document.ok) {
				throw new EvaluatorError(
					"INVALID_FLAG_DOCUMENT",
					`cannot load a rejected flag document: ${document.errors.map((e) => `${e.path || "/"}: ${e.message}`).join("; ")}`,
					{ issues: document.errors },
				);
			}
			doc = document.document;
		} else {
			doc = document;
		}
		const next = new Map<string, CompiledFlag>();
		for (const flag of doc.flags)
			next.set(flag.key, compileFlag(flag, this.compileOptions));
		this.compiled = next;
	}

	/** Evaluates a flag by key; FLAG_NOT_FOUND when it is not loaded. Never throws. */
	evaluate(
		flagKey: string,
		type: RequestedType,
		context: EvaluationContext,
		options?: EvaluateOptions,
	): EvaluationResult {
		const flag = this.compiled.get(flagKey);
		return flag === undefined
			? flagNotFound(flagKey)
			: evaluateFlag(flag, type, context, options);
	}

	/** The loaded flags, by key. */
	flags(): ReadonlyMap<string, CompiledFlag> {
		return this.compiled;
	}
}
