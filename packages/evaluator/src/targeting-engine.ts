import { LogicEngine } from "json-logic-engine";
import { TIMESTAMP_OPERATOR } from "./flagd-properties.js";
import {
	createFractionalSchemeV2,
	evaluateFractional,
	type FractionalBuckets,
	type FractionalScheme,
	type FractionalVariant,
	parseFractionalBuckets,
	pickFractionalVariantByHash,
} from "./fractional-operator.js";
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
 * The json-logic-engine instances with flagd's custom operators: one that generates code, one that interprets. Each
 * operator has a `compile` hook so that the literal parts of a call (sem_ver's operator and target, string_ops'
 * second argument, fractional's buckets) are parsed once per config load and only the dynamic part runs per
 * evaluation. When a compiled-mode rule is walked and when it is compiled is tiered-targeting.ts's concern.
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

let walkingEngine: LogicEngine | undefined;

/**
 * Runs a rule by walking it, without json-logic-engine's per-rule closure tree: the cold tier keeps nothing per
 * rule but the rule itself (the engine takes this path for every rule once its optimiser gives up).
 */
export function walkTargeting(
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

export function interpretTargeting(
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
 * Generates the function of a (validated, `$flagd`-rewritten) rule with the compiling engine. The function depends
 * on the rule alone: a rule with `fractional` reads the scheme set by {@link withFractionalScheme}. Throws what
 * json-logic-engine throws for rules it cannot compile.
 */
export function generateTargeting(rule: JsonValue): TargetingFunction {
	sharedEngine ??= createEngine();
	return sharedEngine.build(rule) as TargetingFunction;
}

/**
 * A generated function that runs with `scheme` as the scheme its `fractional` calls read (set on each call:
 * evaluations are synchronous, so one generated function serves every flag with the same rule).
 */
export function withFractionalScheme(
	run: TargetingFunction,
	scheme: FractionalScheme,
): TargetingFunction {
	return (data: unknown) => {
		activeScheme = scheme;
		return run(data);
	};
}
