export type {
	CompiledFlag,
	CompiledTargeting,
	CompileFlagOptions,
	ContextMode,
} from "./compile-flag.js";
export { compileFlag } from "./compile-flag.js";
export { encodeDeterministicCbor } from "./deterministic-cbor.js";
export type { EvaluatorErrorCode } from "./errors.js";
export { EvaluatorError, isEvaluatorError } from "./errors.js";
export type { EvaluateOptions } from "./evaluate-flag.js";
export { evaluateFlag } from "./evaluate-flag.js";
export { flagNotFound, TypedResults } from "./evaluation-results.js";
export {
	MAX_INLINED_REF_NODES,
	MAX_INLINED_RULE_DEPTH,
} from "./evaluator-refs.js";
export { FlagEvaluator } from "./flag-evaluator.js";
export type {
	FractionalBuckets,
	FractionalFirstArgument,
	FractionalScheme,
	FractionalVariant,
	FractionalVersion,
} from "./fractional-operator.js";
export {
	createFractionalSchemeV2,
	fractionalBucket,
	fractionalHashV2,
	MAX_FRACTIONAL_WEIGHT,
} from "./fractional-operator.js";
export { createFractionalSchemeV3 } from "./fractional-scheme-v3.js";
export type { GoSemver } from "./go-semver.js";
export { compareGoSemver, parseGoSemver } from "./go-semver.js";
export { murmur3Utf8, murmur3Utf8WithPrefix } from "./murmur3.js";
export type { ParseFlagDocumentOptions } from "./parse-flag-document.js";
export {
	MAX_DOCUMENT_DEPTH,
	parseFlagDocument,
} from "./parse-flag-document.js";
export type {
	SanitizeContextConfig,
	SanitizeContextOptions,
} from "./sanitize-context.js";
export {
	resolveSanitizeContextOptions,
	sanitizeContext,
	setOwnProperty,
} from "./sanitize-context.js";
export {
	codeGenerationAvailable,
	defaultTargetingMode,
	type TargetingMode,
} from "./targeting-mode.js";
export { TARGETING_OPERATORS } from "./targeting-operators.js";
export type {
	EvaluationContext,
	EvaluationErrorCode,
	EvaluationReason,
	EvaluationResult,
	FlagDefinition,
	FlagDocument,
	FlagMetadata,
	FlagValueType,
	JsonObject,
	JsonValue,
	ParseResult,
	RequestedType,
	ValidationCode,
	ValidationIssue,
} from "./types.js";
