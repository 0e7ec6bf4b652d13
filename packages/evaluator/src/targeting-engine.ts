import { LogicEngine } from "json-logic-engine";
import { TIMESTAMP_OPERATOR } from "./flagd-properties.js";
import {
	createFractionalSchemeV2,
	evaluateFractional,
	type FractionalBuckets,
	type FractionalScheme,
	type FractionalVariant,
	type FractionalVersion,
	parseFractionalBuckets,
	pickFractionalVariantByHash,
} from "./fractional-operator.js";
import { createFractionalSchemeV3 } from "./fractional-scheme-v3.js";
import type { GoSemver } from "./go-semver.js";
import { interpretedCat } from "./interpreted-cat.js";
import { ownProperty } from "./own-path.js";
import { jsonTruthy, OWN_VAR_OPERATORS } from "./own-var-operators.js";
import {
	compareWithOperator,
	isSemVerOperator,
	parseSemVerOperand,
	semVer,
} from "./sem-ver-operator.js";
import { endsWith, startsWith } from "./string-comparison-operator.js";
import type { JsonValue } from "./types.js";

/**
 * One json-logic-engine instance with flagd's custom operators. Each operator has a `compile` hook so that the
 * literal parts of a call (sem_ver's operator and target, string_ops' second argument, fractional's buckets) are
 * parsed once per config load and only the dynamic part runs per evaluation.
 */

/** A compiled targeting rule: call with the evaluation data. */
export type TargetingFunction = (data: unknown) => unknown;

// json-logic-engine marks synchronous functions with this registered symbol; unmarked ones get `await`ed.
const SYNC = Symbol.for("json_logic_sync");

interface BuildState {
	compile(strings: TemplateStringsArray, ...items: unknown[]): unknown;
}

/**
 * The fractional scheme of the flag whose compiled rule is running: set by the flag's entry function before each
 * call (evaluations are synchronous), so one generated function serves every flag with the same rule.
 */
let activeScheme: FractionalScheme = createFractionalSchemeV2("");

/** The evaluation clock read by rewritten `$flagd.timestamp` reads; set by the evaluator before each call. */
export const evaluationClock = { nowSeconds: 0 };

function sync<T extends (...args: never[]) => unknown>(fn: T): T {
	Object.defineProperty(fn, SYNC, { value: true });
	return fn;
}

/** A JsonLogic argument with no operator inside it (so it can be evaluated at compile time). */
function isLiteral(value: unknown): boolean {
	if (Array.isArray(value)) return value.every(isLiteral);
	return value === null || typeof value !== "object";
}

const semVerCache = new Map<string, GoSemver | undefined>();
const SEM_VER_CACHE_MAX_ENTRIES = 1024;
const SEM_VER_CACHE_MAX_KEY_LENGTH = 128;

/**
 * Parses a version with a small bounded cache (entries and key length are capped, so hostile contexts cannot grow
 * it): real traffic carries few distinct app versions.
 */
function parseVersionCached(value: unknown): GoSemver | undefined {
	if (
		typeof value !== "string" ||
		value.length > SEM_VER_CACHE_MAX_KEY_LENGTH
	) {
		return parseSemVerOperand(value);
	}
	if (semVerCache.has(value)) return semVerCache.get(value);
	const parsed = parseSemVerOperand(value);
	if (semVerCache.size >= SEM_VER_CACHE_MAX_ENTRIES) semVerCache.clear();
	semVerCache.set(value, parsed);
	return parsed;
}

function compileSemVer(data: unknown, state: BuildState): unknown {
	if (!Array.isArray(data) || data.length !== 3) {
		return state.compile`${sync((args: unknown) => semVer(args))}(${data})`;
	}
	const [version, operator, targetArg] = data as [unknown, unknown, unknown];
	if (!isLiteral(operator) || !isLiteral(targetArg)) {
		return state.compile`${sync((args: unknown) => semVer(args))}(${data})`;
	}
	const target = parseSemVerOperand(targetArg);
	if (!isSemVerOperator(operator) || target === undefined) {
		return state.compile`${sync(() => null)}(${version})`;
	}
	const compare = sync((actualArg: unknown): boolean | null => {
		const actual = parseVersionCached(actualArg);
		return actual === undefined
			? null
			: compareWithOperator(actual, operator, target);
	});
	return state.compile`${compare}(${version})`;
}

function compileStringOp(
	op: (args: unknown) => boolean | null,
	test: (text: string, affix: string) => boolean,
) {
	return (data: unknown, state: BuildState): unknown => {
		if (
			Array.isArray(data) &&
			data.length === 2 &&
			typeof data[1] === "string"
		) {
			const affix = data[1];
			const fn = sync((text: unknown) =>
				typeof text === "string" ? test(text, affix) : null,
			);
			return state.compile`${fn}(${data[0]})`;
		}
		return state.compile`${sync((args: unknown) => op(args))}(${data})`;
	};
}

function compileFractional(data: unknown, state: BuildState): unknown {
	if (
		!Array.isArray(data) ||
		data.length === 0 ||
		!data.slice(1).every(isLiteral)
	) {
		const general = sync((args: unknown, context: unknown) =>
			evaluateFractional(args, context, activeScheme),
		);
		return state.compile`${general}(${data}, context)`;
	}
	const rest = data.slice(1) as unknown[];
	const restBuckets = parseFractionalBuckets(rest);
	if (isLiteral(data[0]) && Array.isArray(data[0])) {
		// Shorthand with literal buckets only: everything but the targeting key is known now.
		const all = parseFractionalBuckets(data);
		const shorthand = sync((context: unknown): FractionalVariant => {
			if (all === undefined) return null;
			const hash = activeScheme.implicit(context);
			return hash === undefined ? null : pickFractionalVariantByHash(all, hash);
		});
		return state.compile`${shorthand}(context)`;
	}
	const withFirst = sync(
		(first: unknown, context: unknown): FractionalVariant => {
			const scheme = activeScheme;
			const use = scheme.classify(first);
			if (use === null) return null;
			if (typeof use === "number") {
				return restBuckets === undefined
					? null
					: pickFractionalVariantByHash(restBuckets, use);
			}
			const hash = scheme.implicit(context);
			if (hash === undefined) return null;
			const buckets: FractionalBuckets | undefined =
				use === "implicit"
					? parseFractionalBuckets([first, ...rest])
					: restBuckets;
			return buckets === undefined
				? null
				: pickFractionalVariantByHash(buckets, hash);
		},
	);
	return state.compile`${withFirst}(${data[0]}, context)`;
}

function createEngine(): LogicEngine {
	return addFlagdMethods(new LogicEngine());
}

/**
 * The engine of interpreted mode: json-logic-engine's `run`, whose optimiser turns a rule into a tree of closures
 * (cached per rule object, weakly) without generating code, so it works where `eval`/`new Function` are
 * forbidden. Custom operators run through their `method`; `fractional` takes the scheme of the flag being run.
 */
function createInterpretingEngine(): LogicEngine {
	const engine = addFlagdMethods(new LogicEngine());
	engine.addMethod("fractional", {
		method: (args: unknown, context: unknown) =>
			evaluateFractional(args, context, runningScheme),
		deterministic: false,
	} as never);
	engine.addMethod("cat", {
		method: interpretedCat,
		lazy: true,
		deterministic: false,
	} as never);
	return engine;
}

function addFlagdMethods(engine: LogicEngine): LogicEngine {
	// Context reads see own properties only: `{"var":"constructor"}` never reaches a prototype.
	for (const [name, definition] of Object.entries(OWN_VAR_OPERATORS)) {
		engine.addMethod(name, definition as never);
	}
	(engine as unknown as { truthy: typeof jsonTruthy }).truthy = jsonTruthy;
	engine.addMethod("sem_ver", {
		method: (args: unknown) => semVer(args),
		deterministic: true,
		compile: compileSemVer,
	} as never);
	engine.addMethod("starts_with", {
		method: (args: unknown) => startsWith(args),
		deterministic: true,
		compile: compileStringOp(startsWith, (t, a) => t.startsWith(a)),
	} as never);
	engine.addMethod("ends_with", {
		method: (args: unknown) => endsWith(args),
		deterministic: true,
		compile: compileStringOp(endsWith, (t, a) => t.endsWith(a)),
	} as never);
	engine.addMethod("fractional", {
		method: (args: unknown, context: unknown) =>
			evaluateFractional(
				args,
				context,
				createFractionalSchemeV2(flagKeyOf(context)),
			),
		deterministic: false,
		compile: compileFractional,
	} as never);
	engine.addMethod(TIMESTAMP_OPERATOR, {
		method: () => evaluationClock.nowSeconds,
		deterministic: false,
		compile: (_data: unknown, state: BuildState) =>
			state.compile`${sync(() => evaluationClock.nowSeconds)}()`,
	} as never);
	return engine;
}

/** The interpreted fallback path reads the flag key from the injected `$flagd`, like flagd does. */
function flagKeyOf(context: unknown): string {
	const key = ownProperty(ownProperty(context, "$flagd"), "flagKey");
	return typeof key === "string" ? key : "";
}

let sharedEngine: LogicEngine | undefined;
let interpretingEngine: LogicEngine | undefined;
/** The fractional scheme of the flag whose rule the interpreting engine is running (calls are synchronous). */
let runningScheme: FractionalScheme = createFractionalSchemeV2("");

/** How targeting rules run: generated functions (fastest) or interpreted closures (no code generation). */
export type TargetingMode = "compiled" | "interpreted";

let codeGeneration: boolean | undefined;

/**
 * Whether this runtime lets code be generated at run time (`new Function`; json-logic-engine's compiled mode uses
 * `eval`, which the same policies forbid). Cloudflare Workers, Vercel Edge and pages with a strict CSP do not.
 * Probed once.
 */
export function codeGenerationAvailable(): boolean {
	if (codeGeneration === undefined) {
		try {
			// The same policy (CSP 'unsafe-eval', the Workers and Edge isolates) governs `eval`, which the engine uses.
			codeGeneration = new Function("return 1")() === 1;
		} catch {
			codeGeneration = false;
		}
	}
	return codeGeneration;
}

/** The mode used when none is asked for: compiled where code generation is available, else interpreted. */
export function defaultTargetingMode(): TargetingMode {
	return codeGenerationAvailable() ? "compiled" : "interpreted";
}

let walkingEngine: LogicEngine | undefined;

/**
 * Runs a rule by walking it, without json-logic-engine's per-rule closure tree: the cold tier keeps nothing per
 * rule but the rule itself (the engine takes this path for every rule once its optimiser gives up).
 */
function walkTargeting(
	rule: JsonValue,
	scheme: FractionalScheme,
	data: unknown,
): unknown {
	if (walkingEngine === undefined) {
		walkingEngine = createInterpretingEngine();
		(
			walkingEngine as unknown as { disableInterpretedOptimization: boolean }
		).disableInterpretedOptimization = true;
	}
	runningScheme = scheme;
	return walkingEngine.run(rule as object, data as object);
}

function interpretTargeting(
	rule: JsonValue,
	scheme: FractionalScheme,
): TargetingFunction {
	interpretingEngine ??= createInterpretingEngine();
	const engine = interpretingEngine;
	const logic = rule as object;
	// The closure tree is prepared on the first evaluation (preparing 10,000 rules up front would slow updates);
	// operators the engine does not know were already refused by findOperatorIssues.
	return (data: unknown) => {
		runningScheme = scheme;
		// The optimiser gives up after 500 rule objects it has not seen; ours are prepared once and reused, so its
		// counter is reset rather than letting a large flag set switch it to the slow path for good.
		(engine as unknown as { missesSinceSeen: number }).missesSinceSeen = 0;
		return engine.run(logic, data as object);
	};
}

/**
 * Compiles a (validated, `$flagd`-rewritten) rule for one flag. Throws what json-logic-engine throws for rules it
 * cannot compile; the caller turns that into a PARSE_ERROR value.
 */
export function buildTargeting(
	rule: JsonValue,
	flagKey: string,
	fractional: FractionalVersion = "v2",
	mode: TargetingMode = defaultTargetingMode(),
): TargetingFunction {
	if (mode === "interpreted") {
		return interpretTargeting(
			rule,
			fractional === "v3"
				? createFractionalSchemeV3(flagKey)
				: createFractionalSchemeV2(flagKey),
		);
	}
	// Only `fractional` reads the scheme; other rules share one unused scheme rather than carry their own.
	const scheme = !usesFractional(rule)
		? NO_SCHEME
		: fractional === "v3"
			? createFractionalSchemeV3(flagKey)
			: createFractionalSchemeV2(flagKey);
	if (compileAfter === 0 || pathsMayDiffer(rule))
		return compileTargeting(rule, scheme);
	return tieredTargeting(rule, scheme);
}

/**
 * A compiled-mode rule is walked for its first {@link COMPILE_AFTER_EVALUATIONS} evaluations and compiled on the
 * next one, as JS engines tier code: a generated function costs heap, code and ~40-50 µs to build, worth it only for
 * rules that run often, and in a large document most rules run rarely or never. The walk keeps nothing per rule.
 */
function tieredTargeting(
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
		sharedEngine ??= createEngine();
		run = sharedEngine.build(rule) as TargetingFunction;
		if (ruleKey !== undefined) shareRule(ruleKey, run);
	}
	// Only `fractional` reads the scheme; other rules run as they are.
	if (!json.includes('"fractional"')) return run;
	const shared = run;
	return (data: unknown) => {
		activeScheme = scheme;
		return shared(data);
	};
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
