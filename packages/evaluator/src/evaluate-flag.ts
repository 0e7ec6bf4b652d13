import type { CompiledFlag } from "./compile-flag.js";
import { errorResult } from "./evaluation-results.js";
import { evaluationClock } from "./targeting-engine.js";
import type {
	EvaluationContext,
	EvaluationResult,
	RequestedType,
} from "./types.js";
import { variantNameOf } from "./variant-name.js";

/** Per-call evaluation options. */
export interface EvaluateOptions {
	/** The `$flagd.timestamp` to inject, in Unix seconds. @default Math.floor(Date.now() / 1000) */
	readonly nowSeconds?: number;
}

function describeError(error: unknown): string {
	if (error instanceof Error) return error.message;
	if (error !== null && typeof error === "object") {
		const type = (error as { type?: unknown }).type;
		if (type !== undefined) return String(type);
	}
	return String(error);
}

/**
 * Evaluates a compiled flag with flagd 0.16 semantics (flagd-semantics.md §2): DISABLED without value; no targeting
 * -> default variant with STATIC; targeting result `null` -> default variant with DEFAULT; other results name a
 * variant (TARGETING_MATCH, or ERROR/GENERAL when there is no such variant); no default variant -> the code
 * default (DEFAULT without value); engine errors -> ERROR/PARSE_ERROR; then the type check (TYPE_MISMATCH).
 * Never throws. The context should come from {@link sanitizeContext} when it is untrusted input.
 */
export function evaluateFlag(
	flag: CompiledFlag,
	type: RequestedType,
	context: EvaluationContext,
	options?: EvaluateOptions,
): EvaluationResult {
	if (flag.disabled) return flag.disabledResult();
	if (flag.parseError !== undefined) return flag.parseError;
	const targeting = flag.targeting;
	if (targeting === undefined) {
		const results = flag.staticResults();
		return results === undefined ? flag.fallback() : results.get(type);
	}
	let raw: unknown;
	try {
		let data: unknown = context;
		if (targeting.usesTimestamp || targeting.contextMode === "injected") {
			const nowSeconds = options?.nowSeconds ?? Math.floor(Date.now() / 1000);
			evaluationClock.nowSeconds = nowSeconds;
			if (targeting.contextMode === "injected") {
				// flagd overwrites any caller-supplied $flagd; the copy leaves the caller's object untouched and, like
				// the sanitised context, has no prototype (own keys such as `__proto__` are copied as data).
				const flagd = Object.create(null);
				flagd.flagKey = flag.key;
				flagd.timestamp = nowSeconds;
				data = Object.assign(Object.create(null), context, { $flagd: flagd });
			}
		}
		raw = targeting.run(data);
	} catch (error: unknown) {
		return errorResult({
			flagKey: flag.key,
			errorCode: "PARSE_ERROR",
			errorMessage: `flag "${flag.key}": targeting failed: ${describeError(error)}`,
			metadata: flag.metadata,
		});
	}
	if (raw === null || raw === undefined) {
		const results = flag.defaultResults();
		return results === undefined ? flag.fallback() : results.get(type);
	}
	const variant = variantNameOf(raw);
	const match = flag.matchResults(variant);
	if (match === undefined) {
		return errorResult({
			flagKey: flag.key,
			errorCode: "GENERAL",
			errorMessage: `flag "${flag.key}": targeting returned "${variant}", which is not a variant`,
			metadata: flag.metadata,
		});
	}
	return match.get(type);
}
