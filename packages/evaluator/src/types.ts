/**
 * Public types of the flagd flag model and evaluation results. This file is the contract between the evaluator
 * and its users (the daemon's store and services, an in-process provider): change it only together with them.
 */

/** Any JSON value. */
export type JsonValue =
	| null
	| boolean
	| number
	| string
	| JsonValue[]
	| { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * The evaluation context: plain JSON data. `targetingKey` is an ordinary top-level property. Untrusted input should
 * pass through `sanitizeContext` first (prototype keys dropped, depth and size bounded).
 */
export type EvaluationContext = JsonObject;

/** Flag and flag-set metadata values: flat, string/number/boolean only (flagd schema). */
export type FlagMetadata = Record<string, string | number | boolean>;

/** The value kinds a caller can ask for. `number` accepts any number; `integer` asks for an Int resolution. */
export type FlagValueType =
	| "boolean"
	| "string"
	| "number"
	| "integer"
	| "object";

/** `any` evaluates untyped (OFREP, ResolveAll): no type check. */
export type RequestedType = FlagValueType | "any";

/** A flag after parsing and `$ref` inlining, ready to be compiled. */
export interface FlagDefinition {
	readonly key: string;
	readonly state: "ENABLED" | "DISABLED";
	readonly variants: Readonly<Record<string, JsonValue>>;
	/** `null` when the document has no default variant (absent or null): the code default applies. */
	readonly defaultVariant: string | null;
	/** The JsonLogic rule with `$ref`s inlined, or `undefined` when absent or `{}`. */
	readonly targeting: JsonValue | undefined;
	/** Set metadata overlaid by the flag's own metadata (flag wins). */
	readonly metadata: FlagMetadata;
	/** `metadata.flagSetId` of the flag, else of the set; `undefined` when neither has one. */
	readonly flagSetId: string | undefined;
}

/** A whole flag definition document after parsing. */
export interface FlagDocument {
	readonly flags: readonly FlagDefinition[];
	/** Set-level metadata (`metadata` at the top of the document). */
	readonly metadata: FlagMetadata;
}

/** Stable codes of validation findings. */
export type ValidationCode =
	| "INVALID_DOCUMENT"
	| "INVALID_FLAGS"
	| "INVALID_FLAG"
	| "INVALID_STATE"
	| "INVALID_VARIANTS"
	| "MIXED_VARIANT_TYPES"
	| "UNKNOWN_DEFAULT_VARIANT"
	| "INVALID_TARGETING"
	| "UNKNOWN_OPERATOR"
	| "UNKNOWN_EVALUATOR_REF"
	| "EVALUATOR_REF_EXPANSION"
	| "INVALID_METADATA"
	| "DUPLICATE_FLAG_KEY"
	| "UNKNOWN_PROPERTY";

/** One validation finding with a precise location. */
export interface ValidationIssue {
	readonly code: ValidationCode;
	readonly severity: "error" | "warning";
	readonly message: string;
	/** The flag the finding is about, when it is about one. */
	readonly flagKey?: string;
	/** JSON pointer into the document, e.g. `/flags/my-flag/defaultVariant`. */
	readonly path: string;
}

/** Outcome of parsing a document: a value, never an exception. */
export type ParseResult =
	| {
			readonly ok: true;
			readonly document: FlagDocument;
			readonly warnings: readonly ValidationIssue[];
			/**
			 * With `skipInvalidFlags`: the errors of the flags left out of `document` (each names its flag). Empty
			 * otherwise.
			 */
			readonly invalidFlags?: readonly ValidationIssue[];
	  }
	| {
			readonly ok: false;
			readonly errors: readonly ValidationIssue[];
			readonly warnings: readonly ValidationIssue[];
	  };

/** Reasons the evaluator produces. */
export type EvaluationReason =
	| "STATIC"
	| "TARGETING_MATCH"
	| "DEFAULT"
	| "DISABLED"
	| "ERROR";

/** Error codes the evaluator produces. */
export type EvaluationErrorCode =
	| "FLAG_NOT_FOUND"
	| "TYPE_MISMATCH"
	| "PARSE_ERROR"
	| "GENERAL";

/**
 * The result of one evaluation. Expected outcomes are values (C20), never exceptions.
 * - success: `value` and `variant` set, reason STATIC / TARGETING_MATCH / DEFAULT;
 * - code default ("fallback": no usable default variant): reason DEFAULT with `value` and `variant` undefined;
 * - disabled: reason DISABLED with `value` and `variant` undefined;
 * - error: reason ERROR with `errorCode` and `errorMessage`, `value`/`variant` undefined.
 */
export interface EvaluationResult {
	readonly flagKey: string;
	readonly value: JsonValue | undefined;
	readonly variant: string | undefined;
	readonly reason: EvaluationReason;
	readonly errorCode?: EvaluationErrorCode;
	readonly errorMessage?: string;
	/** The flag's merged metadata (empty when the flag was not found). */
	readonly metadata: FlagMetadata;
}
