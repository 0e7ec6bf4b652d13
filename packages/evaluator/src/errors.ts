import type { ValidationIssue } from "./types.js";

/** Stable codes of {@link EvaluatorError}. */
export type EvaluatorErrorCode = "INVALID_FLAG_DOCUMENT";

/**
 * The evaluator's error catalogue (C18). Expected outcomes (flag not found, type mismatch, bad documents from
 * `parseFlagDocument`) are values; this is thrown only when a caller hands a rejected parse result to
 * `FlagEvaluator.setDocument`, which is a programming error.
 */
export class EvaluatorError extends Error {
	override readonly name = "EvaluatorError";
	readonly code: EvaluatorErrorCode;
	/** The validation errors behind the failure, when there are any. */
	readonly issues: readonly ValidationIssue[];

	constructor(
		code: EvaluatorErrorCode,
		message: string,
		options: { issues?: readonly ValidationIssue[]; cause?: unknown } = {},
	) {
		super(
			message,
			options.cause === undefined ? undefined : { cause: options.cause },
		);
		this.code = code;
		this.issues = options.issues ?? [];
	}
}

/** Whether a value is an {@link EvaluatorError}, also across two copies of this package (checks name and code). */
export function isEvaluatorError(error: unknown): error is EvaluatorError {
	return (
		error instanceof Error &&
		error.name === "EvaluatorError" &&
		typeof (error as { code?: unknown }).code === "string"
	);
}
