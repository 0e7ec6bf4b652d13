import { defineOwn } from "./json-guards.js";
import { pointerSegment } from "./targeting-operators.js";
import type { JsonObject, JsonValue } from "./types.js";

/** A `$ref` that names no evaluator, with its location inside the rule. */
export interface UnresolvedRef {
	readonly name: string;
	readonly pointer: string;
}

/**
 * Most JSON nodes (objects, arrays and scalars) `$ref` inlining may copy into the rules of one document, summed over
 * all its flags. Inlining copies, so an evaluator referencing the next one twice doubles per level: a 1 KB document
 * can ask for 2^30 nodes. No sane document comes near this (300 flags each inlining a 100-node evaluator copy 30,000); near the limit,
 * parsing and compiling take about a second.
 */
export const MAX_INLINED_REF_NODES = 100_000;

/** Deepest nesting a rule may reach once its references are inlined (a long chain of evaluators nests deeply). */
export const MAX_INLINED_RULE_DEPTH = 512;

/** The inlining allowance of one document, shared by its flags. */
export interface RefExpansionBudget {
	/** Nodes that inlining may still copy. */
	remainingNodes: number;
	/** Set once the exhausted budget has been reported, so a document gets one error for it, not one per flag. */
	overflowReported?: boolean;
}

/** Creates the allowance for one document. */
export function createRefExpansionBudget(
	maxNodes: number = MAX_INLINED_REF_NODES,
): RefExpansionBudget {
	return { remainingNodes: maxNodes };
}

/** Why inlining stopped: too many copied nodes, or too deep a rule. */
export interface RefExpansionOverflow {
	readonly kind: "nodes" | "depth";
	/** JSON pointer (inside the rule) of the `$ref` being expanded when the limit was hit. */
	readonly pointer: string;
}

class ExpansionStopped extends Error {
	constructor(readonly overflow: RefExpansionOverflow) {
		super(overflow.kind);
	}
}

function refName(node: JsonObject): unknown {
	const keys = Object.keys(node);
	return keys.length === 1 && keys[0] === "$ref" ? node.$ref : undefined;
}

/**
 * Inlines `{"$ref": "<name>"}` nodes with the named shared rule from `$evaluators`. flagd does this by string
 * replacement on re-serialised JSON, which is why it is whitespace-tolerant; working on the parsed structure gives
 * the same result for any spacing. References inside evaluators are followed too (flagd's single replacement pass
 * makes that order-dependent); a cycle or an unknown name leaves the `$ref` in place, which then fails evaluation
 * with PARSE_ERROR exactly as an unknown operator does in flagd. Nodes without references are shared with the
 * input, never mutated; copies use own data properties, so a `__proto__` key cannot replace a prototype.
 *
 * Every node visited inside an inlined evaluator is charged to `budget` (one per document), and the inlined rule may
 * not nest deeper than {@link MAX_INLINED_RULE_DEPTH}: past either limit inlining stops at once and `overflow` says
 * where, so a reference bomb costs at most the budget in time and memory, never 2^depth.
 */
export function inlineEvaluatorRefs(
	rule: JsonValue,
	evaluators: ReadonlyMap<string, JsonValue>,
	budget: RefExpansionBudget = createRefExpansionBudget(),
): {
	rule: JsonValue;
	unresolved: UnresolvedRef[];
	overflow?: RefExpansionOverflow;
} {
	const unresolved: UnresolvedRef[] = [];
	// Pointer of the outermost `$ref` being expanded (where a limit is reported); undefined outside any reference.
	let refPointer: string | undefined;
	const active = new Set<string>();
	// Path segments of the current node; a pointer string is only built for a finding.
	const segments: Array<string | number> = [];
	const pointer = () => segments.map((s) => `/${pointerSegment(s)}`).join("");
	// Returns the node itself when nothing below it changed (structural sharing: no copies for ref-free rules).
	const visit = (node: JsonValue): JsonValue => {
		if (refPointer !== undefined) {
			budget.remainingNodes--;
			if (budget.remainingNodes < 0)
				throw new ExpansionStopped({ kind: "nodes", pointer: refPointer });
			if (segments.length > MAX_INLINED_RULE_DEPTH)
				throw new ExpansionStopped({ kind: "depth", pointer: refPointer });
		}
		if (node === null || typeof node !== "object") return node;
		if (Array.isArray(node)) {
			let out: JsonValue[] | undefined;
			for (let i = 0; i < node.length; i++) {
				segments.push(i);
				const item = node[i] as JsonValue;
				const next = visit(item);
				segments.pop();
				if (next !== item && out === undefined) out = node.slice(0, i);
				if (out !== undefined) out.push(next);
			}
			return out ?? node;
		}
		const name = refName(node);
		if (name !== undefined) {
			const target =
				typeof name === "string" ? evaluators.get(name) : undefined;
			if (
				typeof name !== "string" ||
				target === undefined ||
				active.has(name)
			) {
				unresolved.push({
					name: typeof name === "string" ? name : JSON.stringify(name),
					pointer: `${pointer()}/$ref`,
				});
				return node;
			}
			active.add(name);
			const outermost = refPointer === undefined;
			if (outermost) refPointer = `${pointer()}/$ref`;
			try {
				return visit(target);
			} finally {
				active.delete(name);
				if (outermost) refPointer = undefined;
			}
		}
		let out: JsonObject | undefined;
		const keys = Object.keys(node);
		for (let i = 0; i < keys.length; i++) {
			const key = keys[i] as string;
			segments.push(key);
			const child = node[key] as JsonValue;
			const next = visit(child);
			segments.pop();
			if (next !== child && out === undefined) {
				out = {};
				for (let j = 0; j < i; j++)
					defineOwn(
						out,
						keys[j] as string,
						node[keys[j] as string] as JsonValue,
					);
			}
			if (out !== undefined) defineOwn(out, key, next);
		}
		return out ?? node;
	};
	try {
		return { rule: visit(rule), unresolved };
	} catch (error: unknown) {
		if (!(error instanceof ExpansionStopped)) throw error;
		// Drop the findings of the partial walk: the rule is rejected as a whole.
		return { rule, unresolved: [], overflow: error.overflow };
	}
}
