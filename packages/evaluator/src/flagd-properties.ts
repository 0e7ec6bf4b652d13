import type { JsonValue } from "./types.js";

/**
 * Compile-time handling of flagd's injected `$flagd` properties. flagd copies the context and adds
 * `$flagd = {flagKey, timestamp}` on every targeted evaluation; most rules never read it. This analysis rewrites the
 * common literal reads (`{"var":"$flagd.flagKey"}` becomes the flag key itself, `{"var":"$flagd.timestamp"}` an
 * internal clock operator) and reports whether anything else could observe `$flagd` or the whole context, in which
 * case the evaluator falls back to the copying injection. The result is identical to flagd either way.
 */

/** Internal operator that reads the evaluation clock; user rules cannot name it (not in the allowlist). */
export const TIMESTAMP_OPERATOR = "$flagd.timestamp";

/** What a rule needs from the evaluation. */
export interface FlagdPropertyAnalysis {
	readonly rule: JsonValue;
	/** The rule can observe `$flagd` or the whole context: inject a copied context. */
	readonly needsInjectedContext: boolean;
	/** The rule reads the clock (internal timestamp operator). */
	readonly usesTimestamp: boolean;
}

const ITERATORS: ReadonlySet<string> = new Set([
	"map",
	"filter",
	"reduce",
	"all",
	"none",
	"some",
]);

type VarRewrite =
	| { kind: "keep" }
	| { kind: "inject" }
	| { kind: "replace"; value: JsonValue };

/** Decides what to do with a top-scope `var` argument. */
function rewriteVar(arg: JsonValue, flagKey: string): VarRewrite {
	const path = Array.isArray(arg) ? arg[0] : arg;
	if (path === undefined || path === null || path === "")
		return { kind: "inject" };
	if (typeof path === "number") return { kind: "keep" };
	if (typeof path !== "string") return { kind: "inject" };
	if (path === "$flagd.flagKey") return { kind: "replace", value: flagKey };
	if (path === "$flagd.timestamp")
		return { kind: "replace", value: { [TIMESTAMP_OPERATOR]: [] } };
	if (path.startsWith("$flagd") || path.startsWith("../"))
		return { kind: "inject" };
	return { kind: "keep" };
}

/** Analyses and rewrites a rule for one flag. */
export function analyzeFlagdProperties(
	rule: JsonValue,
	flagKey: string,
): FlagdPropertyAnalysis {
	let needsInjectedContext = false;
	let usesTimestamp = false;
	const visit = (node: JsonValue): JsonValue => {
		// Unchanged parts are returned as they are: the rule is kept (until it is compiled) beside the definition.
		if (Array.isArray(node)) {
			const items = node.map(visit);
			return items.every((item, i) => item === node[i]) ? node : items;
		}
		if (node === null || typeof node !== "object") return node;
		const keys = Object.keys(node);
		if (keys.length !== 1) return node;
		const operator = keys[0] as string;
		const arg = node[operator] as JsonValue;
		if (operator === "var") {
			const rewrite = rewriteVar(arg, flagKey);
			if (rewrite.kind === "inject") needsInjectedContext = true;
			if (rewrite.kind !== "replace") return node;
			if (typeof rewrite.value === "object") usesTimestamp = true;
			return rewrite.value;
		}
		if (operator === "missing" || operator === "missing_some") {
			if (JSON.stringify(arg).includes("$flagd") || containsObject(arg)) {
				needsInjectedContext = true;
			}
			return node;
		}
		if (ITERATORS.has(operator) && Array.isArray(arg)) {
			// Inside the per-item rule `var` reads the item, not the root context: only the source is top scope.
			const [source, ...rest] = arg;
			// `../` paths can climb back to the root from an item, so be conservative when they might read $flagd.
			if (JSON.stringify(rest).includes("$flagd")) needsInjectedContext = true;
			const visited = visit(source as JsonValue);
			return visited === source ? node : { [operator]: [visited, ...rest] };
		}
		const visited = visit(arg);
		return visited === arg ? node : { [operator]: visited };
	};
	const rewritten = visit(rule);
	return { rule: rewritten, needsInjectedContext, usesTimestamp };
}

function containsObject(value: JsonValue): boolean {
	if (Array.isArray(value)) return value.some(containsObject);
	return value !== null && typeof value === "object";
}
