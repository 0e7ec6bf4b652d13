/**
 * An OpenFeature hook that records each flag evaluation as a `feature_flag.evaluation` event on the active
 * OpenTelemetry span (OpenFeature OTel hook conventions / OTel feature-flag semantic conventions). Opt in with
 * `OpenFeature.addHooks(new TracingHook())`; without an active recording span it does nothing.
 */
import type {
	EvaluationDetails,
	FlagValue,
	Hook,
	HookContext,
} from "@openfeature/server-sdk";
import { trace } from "@opentelemetry/api";

/** The span event name (OTel semantic conventions for feature flags). */
export const FEATURE_FLAG_EVENT = "feature_flag.evaluation";

/** See the file comment. */
export class TracingHook implements Hook {
	after(
		hookContext: Readonly<HookContext<FlagValue>>,
		details: EvaluationDetails<FlagValue>,
	): void {
		const span = trace.getActiveSpan();
		if (span === undefined || !span.isRecording()) return;
		span.addEvent(FEATURE_FLAG_EVENT, {
			"feature_flag.key": hookContext.flagKey,
			"feature_flag.provider.name": hookContext.providerMetadata.name,
			...(details.variant === undefined
				? {}
				: { "feature_flag.result.variant": details.variant }),
			...(details.reason === undefined
				? {}
				: { "feature_flag.result.reason": details.reason.toLowerCase() }),
			...(details.errorCode === undefined
				? {}
				: { "error.type": details.errorCode.toLowerCase() }),
		});
	}

	error(hookContext: Readonly<HookContext<FlagValue>>, error: unknown): void {
		const span = trace.getActiveSpan();
		if (span === undefined || !span.isRecording()) return;
		span.addEvent(FEATURE_FLAG_EVENT, {
			"feature_flag.key": hookContext.flagKey,
			"feature_flag.provider.name": hookContext.providerMetadata.name,
			"error.type": errorTypeOf(error),
			"error.message": error instanceof Error ? error.message : String(error),
		});
	}
}

/** OpenFeature errors carry an ErrorCode (`FLAG_NOT_FOUND`); the convention's value is its lower-case form. */
function errorTypeOf(error: unknown): string {
	const code: unknown =
		error !== null && typeof error === "object" && "code" in error
			? error.code
			: undefined;
	return typeof code === "string" ? code.toLowerCase() : "general";
}
