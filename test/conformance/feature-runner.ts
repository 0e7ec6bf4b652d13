/**
 * The Jest gherkin runner: one Jest test per scenario / example row of a testbed feature file, selected by the
 * tag expression `<mode> and not @fractional-v1 and not @fractional-v3 and not @deprecated`, where <mode> is
 * `@rpc` (RPC provider, OFREP, evaluation v1), `@in-process` or `@file`. Cases outside it are
 * registered as skipped tests whose names carry the reason, so nothing is left out silently. After the file, it
 * prints `<feature> [<backend>]: N passed, N failed, N skipped`.
 *
 * Steps run in order against a fresh world; a step that matches no definition fails the case (never skipped).
 * The launchpad keeps one daemon per config across the scenarios of a file (the testbed restarts flagd only on
 * `the connection is lost` or a config change); each case closes its provider afterwards.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, it } from "@jest/globals";
import { OpenFeature } from "@openfeature/server-sdk";
import {
	type GherkinCase,
	loadGherkinCases,
	testbedRoot,
} from "../support/gherkin-cases.js";
import { configSteps } from "./config-steps.js";
import {
	type ConformanceBackend,
	type ConformanceEnvironment,
	createConformanceEnvironment,
} from "./conformance-environment.js";
import { ConformanceWorld, type StepDefinition } from "./conformance-world.js";
import { evaluationSteps } from "./evaluation-steps.js";
import { providerSteps } from "./provider-steps.js";

const STEPS: readonly StepDefinition[] = [
	...configSteps,
	...providerSteps,
	...evaluationSteps,
];

/** Tags the rpc tag expression excludes, with the reason shown in the skipped test's name. */
export const EXCLUDED_TAGS: Readonly<Record<string, string>> = {
	"@fractional-v1":
		"legacy float bucketing, replaced by v2 (flagd 0.16 runs v2)",
	"@fractional-v3":
		"testbed 3.9.0 bucketing that flagd itself has not adopted (flagd pins testbed 3.8.2)",
	"@deprecated":
		"deprecated by the testbed (@no-default is superseded by @no-default-variant)",
};

/** The testbed tag that selects a backend's scenarios. */
const MODE_TAG: Readonly<Record<ConformanceBackend, string>> = {
	provider: "@rpc",
	"evaluation-v1": "@rpc",
	ofrep: "@rpc",
	"in-process": "@in-process",
	file: "@file",
};

/** Why a case is not run for `backend`, or undefined when it runs. */
export function exclusionReason(
	testCase: GherkinCase,
	backend: ConformanceBackend,
	alsoRunTag?: string,
): string | undefined {
	const tags = testCase.tags;
	const extra = alsoRunTag !== undefined && tags.includes(alsoRunTag);
	const modeTag = MODE_TAG[backend];
	if (!tags.includes(modeTag) && !extra)
		return `not ${modeTag}: a scenario of another resolver`;
	if (backend === "evaluation-v1") {
		// flagd's v1 API keeps reporting a flag without default variant as NOT_FOUND (flagd-protocol.md §6), which is
		// exactly what the deprecated @no-default rows expect; @no-default-variant describes the v2/OFREP behaviour.
		if (tags.includes("@no-default-variant")) {
			return "evaluation v1 reports a missing default variant as NOT_FOUND by design; checked by the @no-default rows";
		}
		if (tags.includes("@no-default")) return undefined;
	}
	for (const tag of tags) {
		const reason = EXCLUDED_TAGS[tag];
		if (reason !== undefined) return `${tag}: ${reason}`;
	}
	return undefined;
}

function stepTimeoutMs(testCase: GherkinCase): number {
	const outageSeconds = testCase.steps
		.map((step) => /^the connection is lost for (\d+)s$/.exec(step.text)?.[1])
		.reduce(
			(sum, seconds) => sum + (seconds === undefined ? 0 : Number(seconds)),
			0,
		);
	return outageSeconds > 0 ? 60_000 + outageSeconds * 1000 : 30_000;
}

/** What the SDK logged during the current case (expected for unavailable/forbidden; shown when a case fails). */
const sdkLog: string[] = [];
const recordSdk =
	(level: string) =>
	(...args: unknown[]): void => {
		sdkLog.push(
			`${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ")}`,
		);
	};
const sdkLogger = {
	error: recordSdk("error"),
	warn: recordSdk("warn"),
	info: () => undefined,
	debug: () => undefined,
};

/** Runs the steps of one case; returns the world's event timeline (empty without an outage). */
async function runCase(
	testCase: GherkinCase,
	environment: ConformanceEnvironment,
): Promise<readonly string[]> {
	const world = new ConformanceWorld(environment);
	sdkLog.length = 0;
	const daemonLogStart = environment.launchpad.daemonLog.length;
	for (const step of testCase.steps) {
		const definition = STEPS.find((candidate) =>
			candidate.pattern.test(step.text),
		);
		if (definition === undefined)
			throw new Error(`undefined step: "${step.text}"`);
		const match = definition.pattern.exec(step.text);
		try {
			await definition.run(world, match?.slice(1) ?? [], step.dataTable);
		} catch (error: unknown) {
			const message = error instanceof Error ? error.message : String(error);
			const daemonLines = environment.launchpad.daemonLog
				.slice(daemonLogStart)
				.map((line) => `daemon ${line.level}: ${line.message}`);
			const context = [...sdkLog, ...daemonLines].slice(-10).join("\n  ");
			throw new Error(
				`step "${step.text}" failed: ${message}${context === "" ? "" : `\n  ${context}`}`,
				{
					cause: error,
				},
			);
		}
	}
	const outageStart = world.outageStartedAtMs;
	if (outageStart === undefined) return [];
	// Every event after the outage started, consumed or not (an ERROR inside a "stale -> ready" chain shows here).
	const after = world.events
		.slice(world.outageEventIndex)
		.map((event) => `${event.type} +${event.atMs - outageStart}ms`);
	return [...world.timeline, ...after];
}

/** Options of {@link defineFeatureSuite}. */
export interface FeatureSuiteOptions {
	/**
	 * Also run cases with this tag although they are not tagged @rpc (an extra check beyond the rpc suite, reported
	 * on its own line so the rpc counts stay comparable). @default undefined
	 */
	readonly alsoRunTag?: string;
}

/** Registers the cases of `featureFile` (a file name in the testbed's gherkin/ folder) for `backend`. */
export function defineFeatureSuite(
	featureFile: string,
	backend: ConformanceBackend,
	options: FeatureSuiteOptions = {},
): void {
	const reasonFor = (testCase: GherkinCase) =>
		exclusionReason(testCase, backend, options.alsoRunTag);
	const label =
		options.alsoRunTag === undefined
			? backend
			: `${backend}, extra: ${options.alsoRunTag} without @rpc`;
	const cases = loadGherkinCases(
		path.join(testbedRoot(), "gherkin", featureFile),
	);
	const counts = { passed: 0, failed: 0, skipped: 0 };
	// A case Jest times out never reaches its own catch; afterEach counts it as failed.
	let running: { settled: boolean } | undefined;
	const timings: string[] = [];
	let environment: ConformanceEnvironment | undefined;

	const runnable = cases.filter(
		(testCase) => reasonFor(testCase) === undefined,
	).length;
	if (runnable === 0) {
		// Jest runs no hooks in a block whose tests are all skipped, so the line is printed now.
		process.stdout.write(
			`conformance ${featureFile} [${label}]: 0 passed, 0 failed, ${cases.length} skipped (no case selected)\n`,
		);
	}

	describe(`${featureFile} [${label}]`, () => {
		beforeAll(async () => {
			OpenFeature.setLogger(sdkLogger);
			if (cases.some((testCase) => reasonFor(testCase) === undefined)) {
				environment = await createConformanceEnvironment(backend);
			}
		}, 30_000);

		afterEach(async () => {
			if (running !== undefined && !running.settled) counts.failed += 1;
			running = undefined;
			await OpenFeature.clearProviders();
			// A scenario may end inside a restart's outage; the next one must find the daemon up.
			await environment?.launchpad.settle();
		}, 30_000);

		afterAll(async () => {
			await OpenFeature.close();
			await environment?.dispose();
			process.stdout.write(
				`conformance ${featureFile} [${label}]: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n${timings.map((line) => `${line}\n`).join("")}`,
			);
		}, 30_000);

		for (const testCase of cases) {
			const reason = reasonFor(testCase);
			if (reason !== undefined) {
				counts.skipped += 1;
				it.skip(`${testCase.name} — excluded: ${reason}`, () => undefined);
				continue;
			}
			it(
				testCase.name,
				async () => {
					const state = { settled: false };
					running = state;
					try {
						if (environment === undefined)
							throw new Error("conformance environment did not start");
						const timeline = await runCase(testCase, environment);
						if (timeline.length > 0)
							timings.push(`  ${testCase.name}: ${timeline.join(", ")}`);
						counts.passed += 1;
					} catch (error: unknown) {
						counts.failed += 1;
						throw error;
					} finally {
						state.settled = true;
					}
				},
				stepTimeoutMs(testCase),
			);
		}
	});
}
