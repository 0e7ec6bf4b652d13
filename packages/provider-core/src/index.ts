/**
 * @flagd-ts/provider-core: runtime-agnostic client logic shared by the flagd Node and web providers. It takes a
 * Connect `Transport` built by the platform package and never imports `node:` modules. Internal: no semver
 * guarantee outside this repository.
 */

export {
	defineKey,
	mapEntries,
	structEntries,
	structFromJson,
	structToJson,
	structUnknownField,
	valueToJson,
} from "@flagd-ts/protocol";
export { Backoff, type BackoffOptions } from "./backoff.js";
export {
	contextToStruct,
	MAX_CONTEXT_DEPTH,
	requestWithContext,
	stableStringify,
	structToFlagMetadata,
	structToPlain,
} from "./context-struct.js";
export {
	EncodedContextCache,
	type EncodedContextCacheOptions,
	requestWithEncodedContext,
} from "./encoded-context-cache.js";
export { ERROR_MAPPING, mapEvaluationError } from "./error-mapping.js";
export {
	type ConnectionState,
	EventStreamSupervisor,
	type EventStreamSupervisorOptions,
	type StreamMessage,
	type SupervisorEventDetails,
	type SupervisorEventName,
	type SupervisorHandlers,
} from "./event-stream-supervisor.js";
export { losslessEventStream } from "./lossless-event-stream.js";
export {
	checkOptionValue,
	type OptionCheck,
	type OptionSpec,
	type OptionValue,
	parseOptionText,
} from "./option-spec.js";
export {
	type ApiVersion,
	type CacheType,
	COMMON_DEFAULTS,
	COMMON_OPTION_SPECS,
	type CommonProviderConfig,
	type CommonProviderOptions,
	type ResolverType,
	resolveCommonOptions,
	validateExplicit,
} from "./options.js";
export {
	type CacheMode,
	type FlagValueType,
	ResultCache,
	type ResultCacheOptions,
} from "./result-cache.js";
export { sleep } from "./sleep.js";
export {
	type ParsedStatusCodes,
	parseStatusCodeNames,
} from "./status-code-names.js";
