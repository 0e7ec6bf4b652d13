import type { LogicEngine } from "json-logic-engine";
import { TIMESTAMP_OPERATOR } from "./flagd-properties.js";

/**
 * `cat` for interpreted mode, answering exactly as compiled mode does. json-logic-engine's two paths disagree on
 * null: its `cat` method skips null and undefined, while its compiled code is `'' + a + b`, which writes them as
 * "null"/"undefined". Compiled mode uses the method only when the whole `cat` is constant (inlined at compile
 * time) or its argument is not an array; otherwise it concatenates. Flags evaluate the same in the daemon
 * (compiled) and in an edge runtime (interpreted) only if this quirk is reproduced.
 */
export function interpretedCat(
	raw: unknown,
	context: unknown,
	above: unknown,
	engine: LogicEngine,
): unknown {
	if (typeof raw === "string") return raw;
	if (typeof raw === "number") return String(raw);
	const run = (logic: unknown): unknown =>
		engine.run(logic, context as object, { above } as never);
	if (!Array.isArray(raw) || raw.every(isConstant)) {
		const value = Array.isArray(raw) ? raw.map(run) : run(raw);
		return catMethod(value);
	}
	let text = "";
	for (const item of raw) text += run(item);
	return text;
}

/** json-logic-engine's `cat` method. */
function catMethod(value: unknown): unknown {
	if (typeof value === "string") return value;
	if (!Array.isArray(value)) return String(value);
	let text = "";
	for (const item of value) {
		if (item === null || item === undefined) continue;
		text += item;
	}
	return text;
}

/** Operators whose result depends on the data or the clock: a subtree using none of them is constant. */
const DATA_OPERATORS: ReadonlySet<string> = new Set([
	"var",
	"val",
	"missing",
	"missing_some",
	"fractional",
	TIMESTAMP_OPERATOR,
]);

function isConstant(logic: unknown): boolean {
	if (Array.isArray(logic)) return logic.every(isConstant);
	if (logic === null || typeof logic !== "object") return true;
	for (const [key, value] of Object.entries(logic)) {
		if (DATA_OPERATORS.has(key) || !isConstant(value)) return false;
	}
	return true;
}
