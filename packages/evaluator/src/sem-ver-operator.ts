import { goFormatValue } from "./go-format.js";
import { compareGoSemver, type GoSemver, parseGoSemver } from "./go-semver.js";

/**
 * flagd's `sem_ver` operator: `[version, operator, target]`. Non-string versions are formatted as Go's `%v` does
 * (`1.2` -> "1.2"), a leading `V` becomes `v` and a missing `v` is added, then both must be valid Go semvers.
 * `^` means same major and `~` same major.minor (flagd's simple rule, not npm's caret). Invalid input -> `null`.
 */

/** The operators `sem_ver` understands. */
export type SemVerOperatorName =
	| "="
	| "!="
	| "<"
	| "<="
	| ">"
	| ">="
	| "^"
	| "~";

const OPERATORS: ReadonlySet<string> = new Set([
	"=",
	"!=",
	"<",
	"<=",
	">",
	">=",
	"^",
	"~",
]);

/** Normalises and parses one side of a comparison; `undefined` when it is not a valid version. */
export function parseSemVerOperand(value: unknown): GoSemver | undefined {
	let text = goFormatValue(value);
	if (text.startsWith("V")) text = `v${text.slice(1)}`;
	else if (!text.startsWith("v")) text = `v${text}`;
	return parseGoSemver(text);
}

/** Whether `operator` is one of the supported comparison operators. */
export function isSemVerOperator(
	operator: unknown,
): operator is SemVerOperatorName {
	return typeof operator === "string" && OPERATORS.has(operator);
}

/** Applies a comparison operator to two parsed versions. */
export function compareWithOperator(
	actual: GoSemver,
	operator: SemVerOperatorName,
	target: GoSemver,
): boolean {
	switch (operator) {
		case "^":
			return actual.major === target.major;
		case "~":
			return actual.major === target.major && actual.minor === target.minor;
		default: {
			const cmp = compareGoSemver(actual, target);
			if (operator === "=") return cmp === 0;
			if (operator === "!=") return cmp !== 0;
			if (operator === "<") return cmp < 0;
			if (operator === "<=") return cmp <= 0;
			if (operator === ">") return cmp > 0;
			return cmp >= 0;
		}
	}
}

/** The operator on evaluated arguments. */
export function semVer(args: unknown): boolean | null {
	if (!Array.isArray(args) || args.length !== 3) return null;
	const operator: unknown = args[1];
	if (!isSemVerOperator(operator)) return null;
	const actual = parseSemVerOperand(args[0]);
	const target = parseSemVerOperand(args[2]);
	if (actual === undefined || target === undefined) return null;
	return compareWithOperator(actual, operator, target);
}
