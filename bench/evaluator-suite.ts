import { FlagEvaluator, parseFlagDocument } from "@flagd-ts/evaluator";
import { FlagdCore } from "@openfeature/flagd-core";
import {
	type BenchOptions,
	type BenchPair,
	runPairs,
	type SuiteResult,
} from "./harness.js";

/**
 * The evaluator benchmark: `@flagd-ts/evaluator` (FlagEvaluator.evaluate) against `@openfeature/flagd-core`
 * (FlagdCore.resolve*) on the same flag document and the same rotating contexts. Both sides include the flag
 * lookup by key, the evaluation and the type check.
 */

/** The benchmark flag document (one flag per case). */
export const BENCH_FLAGS = {
	$evaluators: {
		is_internal: { ends_with: [{ var: "email" }, "@faas.com"] },
	},
	flags: {
		static: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
		targeting: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "off",
			targeting: {
				if: [
					{
						and: [
							{ in: [{ var: "locale" }, ["us", "ca"]] },
							{ ends_with: [{ var: "email" }, "@faas.com"] },
						],
					},
					"on",
					"off",
				],
			},
		},
		fractional: {
			state: "ENABLED",
			variants: { red: "red", green: "green", blue: "blue", grey: "grey" },
			defaultVariant: "grey",
			targeting: {
				fractional: [
					["red", 25],
					["green", 25],
					["blue", 25],
					["grey", 25],
				],
			},
		},
		sem_ver: {
			state: "ENABLED",
			variants: { new: "new", old: "old" },
			defaultVariant: "old",
			targeting: {
				if: [{ sem_ver: [{ var: "version" }, ">=", "2.1.0"] }, "new", "old"],
			},
		},
		ref: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "off",
			targeting: { if: [{ $ref: "is_internal" }, "on", "off"] },
		},
	},
} as const;

/** Cases in the headline geometric mean (the four kinds); `ref` is reported alongside. */
export const HEADLINE_CASES = [
	"static",
	"targeting",
	"fractional",
	"sem_ver",
] as const;

type Context = Record<string, string>;

function contexts(count: number, version: (i: number) => string): Context[] {
	const domains = ["faas.com", "example.com", "company.org"];
	const locales = ["us", "de", "ca", "fr"];
	return Array.from({ length: count }, (_, i) => ({
		targetingKey: `user-${i * 7919}`,
		email: `person${i}@${domains[i % domains.length]}`,
		locale: locales[i % locales.length] as string,
		version: version(i),
	}));
}

const VERSIONS = [
	"1.0.0",
	"2.0.0",
	"2.1.0",
	"2.1.1-rc.1",
	"3.0.0",
	"2.2.0",
	"1.9.9",
];
/** 256 contexts cycling through a handful of app versions (what real traffic looks like). */
const COMMON = contexts(256, (i) => VERSIONS[i % VERSIONS.length] as string);
/** 4096 contexts with all-distinct versions: defeats our 1024-entry version parse cache on every call. */
const DISTINCT_VERSIONS = contexts(
	4096,
	(i) => `${i % 7}.${Math.floor(i / 7) % 97}.${i}`,
);

/** Builds the pairs; per pair, both sides walk the same context sequence. */
export function createEvaluatorPairs(): BenchPair[] {
	const parsed = parseFlagDocument(BENCH_FLAGS);
	if (!parsed.ok)
		throw new Error(
			`benchmark flags rejected: ${JSON.stringify(parsed.errors)}`,
		);
	const ours = new FlagEvaluator();
	ours.setDocument(parsed);
	const peer = new FlagdCore();
	peer.setConfigurations(JSON.stringify(BENCH_FLAGS));
	const cases: Array<{
		name: string;
		key: string;
		type: "boolean" | "string";
		ctx: Context[];
	}> = [
		{ name: "static", key: "static", type: "boolean", ctx: COMMON },
		{ name: "targeting", key: "targeting", type: "boolean", ctx: COMMON },
		{ name: "fractional", key: "fractional", type: "string", ctx: COMMON },
		{ name: "sem_ver", key: "sem_ver", type: "string", ctx: COMMON },
		{ name: "ref", key: "ref", type: "boolean", ctx: COMMON },
		{
			name: "sem_ver (distinct versions)",
			key: "sem_ver",
			type: "string",
			ctx: DISTINCT_VERSIONS,
		},
	];
	return cases.map(({ name, key, type, ctx }) => {
		const mask = ctx.length - 1;
		let oursIndex = 0;
		let peerIndex = 0;
		return {
			name,
			ours: () => ours.evaluate(key, type, ctx[oursIndex++ & mask] as Context),
			peer: () =>
				type === "boolean"
					? peer.resolveBooleanEvaluation(key, false, ctx[peerIndex++ & mask])
					: peer.resolveStringEvaluation(key, "", ctx[peerIndex++ & mask]),
		};
	});
}

/** Runs the evaluator suite. */
export function runEvaluatorBench(options?: BenchOptions): SuiteResult {
	return runPairs(
		{
			suite: "evaluator",
			ours: "@flagd-ts/evaluator",
			peer: "@openfeature/flagd-core@4.0.1",
			geometricMeanOver: HEADLINE_CASES,
		},
		createEvaluatorPairs(),
		options,
	);
}
