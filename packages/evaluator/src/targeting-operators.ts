import type { JsonValue } from "./types.js";

/**
 * The JsonLogic operators a flagd targeting rule may use (flagd-schemas `targeting.json`), plus flagd's custom
 * operators. Anything else is an unknown operator: a validation warning at load and PARSE_ERROR at evaluation,
 * as in flagd. The allowlist also keeps names like `__proto__` or `constructor` away from the engine's method
 * table lookups.
 */
export const TARGETING_OPERATORS: ReadonlySet<string> = new Set([
	"var",
	"missing",
	"missing_some",
	"if",
	"==",
	"===",
	"!=",
	"!==",
	"!",
	"!!",
	"or",
	"and",
	">",
	">=",
	"<",
	"<=",
	"max",
	"min",
	"+",
	"-",
	"*",
	"/",
	"%",
	"map",
	"filter",
	"reduce",
	"all",
	"none",
	"some",
	"merge",
	"in",
	"cat",
	"substr",
	"fractional",
	"starts_with",
	"ends_with",
	"sem_ver",
]);

/** An operator problem found in a rule, with a JSON pointer relative to the rule. */
export interface OperatorIssue {
	readonly pointer: string;
	readonly operator: string;
	readonly message: string;
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(segment: string | number): string {
	return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Finds operators that are not allowed, `$ref`s left unresolved, and multi-key objects. Depth is bounded by the caller. */
export function findOperatorIssues(rule: JsonValue): OperatorIssue[] {
	const issues: OperatorIssue[] = [];
	// Path segments of the current node; a pointer string is only built for a finding.
	const segments: Array<string | number> = [];
	const pointer = () => segments.map((s) => `/${pointerSegment(s)}`).join("");
	const visit = (node: JsonValue): void => {
		if (node === null || typeof node !== "object") return;
		if (Array.isArray(node)) {
			for (let i = 0; i < node.length; i++) {
				segments.push(i);
				visit(node[i] as JsonValue);
				segments.pop();
			}
			return;
		}
		const keys = Object.keys(node);
		if (keys.length === 0) return;
		if (keys.length > 1) {
			issues.push({
				pointer: pointer(),
				operator: keys.join(","),
				message: `an operation must have exactly one key, found ${keys.length} (${keys.slice(0, 5).join(", ")})`,
			});
			return;
		}
		const operator = keys[0] as string;
		segments.push(operator);
		if (operator === "$ref") {
			issues.push({
				pointer: pointer(),
				operator,
				message: `unresolved evaluator reference ${JSON.stringify(node[operator])}`,
			});
		} else {
			if (!TARGETING_OPERATORS.has(operator)) {
				issues.push({
					pointer: pointer(),
					operator,
					message: `unknown operator ${JSON.stringify(operator)}`,
				});
			}
			visit(node[operator] as JsonValue);
		}
		segments.pop();
	};
	visit(rule);
	return issues;
}
