/**
 * Compiled mode's tiers, kept apart from the engines that run them (targeting-engine.ts): a rule is walked by
 * json-logic-engine's interpreter for its first evaluations and compiled once it is hot, because a generated function
 * costs heap, code and tens of microseconds to build, which pays only for rules that run often, and most rules of a
 * large document run rarely or never. Rules whose walked and compiled answers could differ are compiled at once, and
 * compiled rules are shared by their JSON between flags.
 */
import {
	createFractionalSchemeV2,
	type FractionalScheme,
} from "./fractional-operator.js";
import {
	generateTargeting,
	type TargetingFunction,
	walkTargeting,
	withFractionalScheme,
} from "./targeting-engine.js";
import type { JsonValue } from "./types.js";

/**
 * How many times a compiled-mode rule is walked before it is compiled. Building a rule's function costs ~40-50 µs
 * (the load of 6,667 distinct rules took 275 ms longer than of 2 shared ones); walking a hot rule costs 0.27-0.72 µs
 * more per evaluation than its function (evaluator bench: targeting 0.50 vs 0.06, fractional 0.37 vs 0.10,
 * sem_ver 0.77 vs 0.06). Compiling once the extra walking cost has reached the build cost (ski rental) means
 * 57-150 evaluations; 100 keeps a rule's total cost within about twice the best choice made in hindsight, and a
 * rule evaluated fewer times never pays for a function.
 */
export const COMPILE_AFTER_EVALUATIONS = 100;

let compileAfter = COMPILE_AFTER_EVALUATIONS;

/**
 * Sets how many walks precede compilation for rules built from now on (0: compile at build). For tests that check
 * the compiled tier itself; not exported from the package.
 */
export function setCompileAfterEvaluations(count: number): void {
	compileAfter = count;
}

/**
 * The compiled-mode function of a (validated, `$flagd`-rewritten) rule: walked first, compiled when hot, or compiled
 * now when the two paths may answer differently (then it throws what json-logic-engine throws for rules it cannot
 * compile). `createScheme` gives the flag's fractional scheme; it is called only for rules with `fractional`.
 */
export function tieredTargeting(
	rule: JsonValue,
	createScheme: () => FractionalScheme,
): TargetingFunction {
	// Only `fractional` reads the scheme; other rules share one unused scheme rather than carry their own.
	const scheme = !usesFractional(rule) ? NO_SCHEME : createScheme();
	if (compileAfter === 0 || pathsMayDiffer(rule))
		return compileTargeting(rule, scheme);
	return walkThenCompile(rule, scheme);
}

/**
 * A compiled-mode rule is walked for its first {@link COMPILE_AFTER_EVALUATIONS} evaluations and compiled on the
 * next one, as JS engines tier code: a generated function costs heap, code and ~40-50 µs to build, worth it only for
 * rules that run often, and in a large document most rules run rarely or never. The walk keeps nothing per rule.
 */
function walkThenCompile(
	rule: JsonValue,
	scheme: FractionalScheme,
): TargetingFunction {
	let remaining = compileAfter;
	let compiled: TargetingFunction | undefined;
	return (data: unknown) => {
		if (compiled !== undefined) return compiled(data);
		if (remaining === 0) {
			try {
				compiled = compileTargeting(rule, scheme);
			} catch {
				// The engine refuses to build a rule it can walk: keep walking it (the answers it gave so far stay
				// the answers; json-logic-engine's interpreter is its reference semantics).
				compiled = (data: unknown) => walkTargeting(rule, scheme, data);
			}
			return compiled(data);
		}
		remaining--;
		return walkTargeting(rule, scheme, data);
	};
}

function compileTargeting(
	rule: JsonValue,
	scheme: FractionalScheme,
): TargetingFunction {
	// The generated function depends on the rule alone (flag-specific `$flagd` reads are rewritten into the rule,
	// and `fractional` reads the running flag's scheme), so flags with the same rule share one: a document of
	// thousands of flags often repeats a handful of rules, and each generated function costs bytecode, closures
	// and, once it runs, feedback and baseline code.
	const json = JSON.stringify(rule);
	const ruleKey =
		sharedRules !== undefined && json.length <= MAX_SHARED_RULE_LENGTH
			? json
			: undefined;
	let run =
		ruleKey === undefined ? undefined : sharedRules?.get(ruleKey)?.deref();
	if (run === undefined) {
		run = generateTargeting(rule);
		if (ruleKey !== undefined) shareRule(ruleKey, run);
	}
	// Only `fractional` reads the scheme; other rules run as they are.
	if (!json.includes('"fractional"')) return run;
	return withFractionalScheme(run, scheme);
}

const NO_SCHEME = createFractionalSchemeV2("");

function usesFractional(rule: JsonValue): boolean {
	if (Array.isArray(rule)) return rule.some(usesFractional);
	if (rule === null || typeof rule !== "object") return false;
	for (const key in rule) {
		if (!Object.hasOwn(rule, key)) continue;
		if (key === "fractional") return true;
		if (usesFractional((rule as Record<string, JsonValue>)[key] as JsonValue))
			return true;
	}
	return false;
}

const COMPARISONS = new Set(["<", "<=", ">", ">=", "==", "===", "!=", "!=="]);

/**
 * Whether json-logic-engine's two paths may answer differently for this rule: its generated code keeps a
 * comparison's left operand in a variable (`prev`) that operators inside the other operands also assign, so such
 * rules are compiled at once and never change answers when they tier up (targeting-mode-parity.test.ts pins one).
 */
function pathsMayDiffer(rule: JsonValue): boolean {
	if (Array.isArray(rule)) return rule.some(pathsMayDiffer);
	if (rule === null || typeof rule !== "object") return false;
	for (const [op, args] of Object.entries(rule)) {
		if (COMPARISONS.has(op) && Array.isArray(args) && args.some(hasOperator))
			return true;
		if (pathsMayDiffer(args)) return true;
	}
	return false;
}

/** An operand that runs an operator other than a context read. */
function hasOperator(value: JsonValue): boolean {
	if (Array.isArray(value)) return value.some(hasOperator);
	if (value === null || typeof value !== "object") return false;
	return (
		Object.keys(value).some((op) => op !== "var") ||
		Object.values(value).some(hasOperator)
	);
}

/**
 * Compiled rules by their JSON, held weakly: a rule's entry goes when no flag uses its function any more. Absent
 * where the runtime has no WeakRef/FinalizationRegistry (then nothing is shared).
 */
const sharedRules: Map<string, WeakRef<TargetingFunction>> | undefined =
	typeof WeakRef === "function" && typeof FinalizationRegistry === "function"
		? new Map()
		: undefined;
const sharedRuleCleanup: FinalizationRegistry<string> | undefined =
	sharedRules === undefined
		? undefined
		: new FinalizationRegistry((ruleKey: string) => {
				if (sharedRules.get(ruleKey)?.deref() === undefined)
					sharedRules.delete(ruleKey);
			});

/** Rules longer than this (as JSON) are not shared: the key would cost more than it saves. */
const MAX_SHARED_RULE_LENGTH = 4096;

function shareRule(ruleKey: string, run: TargetingFunction): void {
	if (sharedRules === undefined || sharedRuleCleanup === undefined) return;
	sharedRules.set(ruleKey, new WeakRef(run));
	sharedRuleCleanup.register(run, ruleKey);
}
