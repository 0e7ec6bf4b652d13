import { defineOwn } from "./json-guards.js";
import { pointerSegment } from "./targeting-operators.js";
import type { JsonObject, JsonValue } from "./types.js";

/** A `$ref` that names no evaluator, with its location inside the rule. */
export interface UnresolvedRef {
	readonly name: string;
	readonly pointer: string;
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
 */
export function inlineEvaluatorRefs(
	rule: JsonValue,
	evaluators: ReadonlyMap<string, JsonValue>,
): { rule: JsonValue; unresolved: UnresolvedRef[] } {
	const unresolved: UnresolvedRef[] = [];
	const active = new Set<string>();
	// Path segments of the current node; a pointer string is only built for a finding.
	const segments: Array<string | number> = [];
	const pointer = () => segments.map((s) => `/${pointerSegment(s)}`).join("");
	// Returns the node itself when nothing below it changed (structural sharing: no copies for ref-free rules).
	const visit = (node: JsonValue): JsonValue => {
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
			try {
				return visit(target);
			} finally {
				active.delete(name);
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
	return { rule: visit(rule), unresolved };
}
