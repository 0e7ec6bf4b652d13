/**
 * Wire constants shared by the daemon and the providers: header names, event types, reasons, error codes and
 * default ports, exactly as flagd spells them (shared/spec/flagd-protocol.md §6, §7, §12).
 */

/** Request header (gRPC metadata key) that carries a selector expression on every flagd API. */
export const FLAGD_SELECTOR_HEADER = "flagd-selector";

/** `EventStreamResponse.type` values sent by flagd's EventStream. */
export const EventType = {
	providerReady: "provider_ready",
	configurationChange: "configuration_change",
	keepAlive: "keep_alive",
	providerShutdown: "provider_shutdown",
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** `type` of one entry in a `configuration_change` event's `data.flags` map. */
export const FlagChangeType = {
	write: "write",
	update: "update",
	delete: "delete",
} as const;
export type FlagChangeType =
	(typeof FlagChangeType)[keyof typeof FlagChangeType];

/**
 * Resolution reasons. The daemon sends STATIC, TARGETING_MATCH, DEFAULT, DISABLED and ERROR; CACHED and STALE
 * are provider-side only; SPLIT and UNKNOWN are defined by flagd but unused.
 */
export const Reason = {
	static: "STATIC",
	targetingMatch: "TARGETING_MATCH",
	default: "DEFAULT",
	disabled: "DISABLED",
	error: "ERROR",
	cached: "CACHED",
	stale: "STALE",
	split: "SPLIT",
	unknown: "UNKNOWN",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Evaluation error codes as flagd's evaluator names them (core/pkg/model/error.go). */
export const EvaluationErrorCode = {
	flagNotFound: "FLAG_NOT_FOUND",
	typeMismatch: "TYPE_MISMATCH",
	parseError: "PARSE_ERROR",
	general: "GENERAL",
} as const;
export type EvaluationErrorCode =
	(typeof EvaluationErrorCode)[keyof typeof EvaluationErrorCode];

/** Error messages flagd puts on the Connect/gRPC error for each evaluation error code. */
export const EVALUATION_ERROR_MESSAGES: Readonly<
	Record<EvaluationErrorCode, string>
> = {
	FLAG_NOT_FOUND: "Flag not found",
	TYPE_MISMATCH: "Type mismatch error",
	PARSE_ERROR: "Error parsing input or configuration",
	GENERAL: "General error",
};

/** Default ports of the flagd daemon. */
export const DEFAULT_PORTS = {
	evaluation: 8013,
	management: 8014,
	sync: 8015,
	ofrep: 8016,
} as const;

/** Idle time after which flagd sends a `keep_alive` event on an EventStream. */
export const EVENT_STREAM_KEEP_ALIVE_MS = 20_000;
