import { jsonTypeName, TYPE_MISMATCH, toRequestedType } from "./typed-value.js";
import type {
	EvaluationReason,
	EvaluationResult,
	FlagMetadata,
	JsonValue,
	RequestedType,
} from "./types.js";

/**
 * Precomputed, frozen results for one (variant, reason) pair, one per requested type, built on first use. Most
 * evaluations then allocate nothing: the result object is shared, so callers must treat it as immutable.
 */
export class TypedResults {
	private readonly flagKey: string;
	/** The variant these results are of. */
	readonly variant: string;
	private readonly value: JsonValue;
	/** The reason these results carry. */
	readonly reason: EvaluationReason;
	private readonly metadata: FlagMetadata;
	/**
	 * The first type asked for and its result: a variant is nearly always asked for with one type (its flag's),
	 * so the other types get an object only when they are asked for (a daemon keeps thousands of these).
	 */
	private firstType: RequestedType | undefined;
	private first: EvaluationResult | undefined;
	private byType: Partial<Record<RequestedType, EvaluationResult>> | undefined;

	constructor(options: {
		flagKey: string;
		variant: string;
		value: JsonValue;
		reason: EvaluationReason;
		metadata: FlagMetadata;
	}) {
		this.flagKey = options.flagKey;
		this.variant = options.variant;
		this.value = options.value;
		this.reason = options.reason;
		this.metadata = options.metadata;
	}

	/** The result for a requested type (a TYPE_MISMATCH error value when the variant's value does not fit). */
	get(type: RequestedType): EvaluationResult {
		if (this.firstType === type) return this.first as EvaluationResult;
		if (this.firstType === undefined) {
			const result = this.build(type);
			this.firstType = type;
			this.first = result;
			return result;
		}
		const cached = this.byType?.[type];
		if (cached !== undefined) return cached;
		const result = this.build(type);
		this.byType ??= {};
		this.byType[type] = result;
		return result;
	}

	private build(type: RequestedType): EvaluationResult {
		const value = toRequestedType(this.value, type);
		if (value === TYPE_MISMATCH) {
			return errorResult({
				flagKey: this.flagKey,
				errorCode: "TYPE_MISMATCH",
				errorMessage: `flag "${this.flagKey}" variant "${this.variant}" is of type ${jsonTypeName(this.value)}, not ${type}`,
				metadata: this.metadata,
			});
		}
		return Object.freeze({
			flagKey: this.flagKey,
			value,
			variant: this.variant,
			reason: this.reason,
			metadata: this.metadata,
		});
	}
}

/** An ERROR result (value and variant undefined). */
export function errorResult(options: {
	flagKey: string;
	errorCode: NonNullable<EvaluationResult["errorCode"]>;
	errorMessage: string;
	metadata: FlagMetadata;
}): EvaluationResult {
	return Object.freeze({
		flagKey: options.flagKey,
		value: undefined,
		variant: undefined,
		reason: "ERROR",
		errorCode: options.errorCode,
		errorMessage: options.errorMessage,
		metadata: options.metadata,
	});
}

/** A result without value and variant: DISABLED, or DEFAULT for the code default ("fallback"). */
export function valuelessResult(
	flagKey: string,
	reason: "DISABLED" | "DEFAULT",
	metadata: FlagMetadata,
): EvaluationResult {
	return Object.freeze({
		flagKey,
		value: undefined,
		variant: undefined,
		reason,
		metadata,
	});
}

const EMPTY_METADATA: FlagMetadata = Object.freeze({});

/** The result for a flag key that is not loaded: reason ERROR, code FLAG_NOT_FOUND, empty metadata. */
export function flagNotFound(flagKey: string): EvaluationResult {
	return errorResult({
		flagKey,
		errorCode: "FLAG_NOT_FOUND",
		errorMessage: `flag "${flagKey}" not found`,
		metadata: EMPTY_METADATA,
	});
}
