import type { ValidationCode, ValidationIssue } from "./types.js";

/** Collects validation findings for one document. */
export class ValidationIssues {
	readonly errors: ValidationIssue[] = [];
	readonly warnings: ValidationIssue[] = [];

	/** A finding that rejects the document. */
	error(
		code: ValidationCode,
		path: string,
		message: string,
		flagKey?: string,
	): void {
		this.errors.push(
			issue({ code, severity: "error", path, message, flagKey }),
		);
	}

	/** A finding that is reported but does not reject the document (unless strict). */
	warn(
		code: ValidationCode,
		path: string,
		message: string,
		flagKey?: string,
	): void {
		this.warnings.push(
			issue({ code, severity: "warning", path, message, flagKey }),
		);
	}
}

function issue(fields: {
	code: ValidationCode;
	severity: "error" | "warning";
	path: string;
	message: string;
	flagKey: string | undefined;
}): ValidationIssue {
	const { flagKey, ...rest } = fields;
	return flagKey === undefined ? rest : { ...rest, flagKey };
}
