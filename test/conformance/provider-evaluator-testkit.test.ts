/**
 * The flagd-testbed evaluator testkit (evaluator/gherkin, flags from evaluator/flags/testkit-flags.json) through
 * @flagd-ts/provider's file resolver and the OpenFeature client, once with compiled and once with interpreted
 * targeting. `Given an evaluator` sets up the provider; `… and a fallback value …` is the provider suite's
 * `… and a default value …`; every other step is the conformance runner's. @fractional-v1 (legacy) and
 * @fractional-v3 (not in flagd yet) are skipped, as in the evaluator's own testkit run.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, describe, it } from "@jest/globals";
import { type Client, OpenFeature } from "@openfeature/server-sdk";
import {
	hasAnyTag,
	loadGherkinCasesFromFiles,
	testbedRoot,
} from "../support/gherkin-cases.js";
import type { ConformanceEnvironment } from "./conformance-environment.js";
import { ConformanceWorld, type StepDefinition } from "./conformance-world.js";
import { evaluationSteps } from "./evaluation-steps.js";

const SKIPPED_TAGS = ["@fractional-v1", "@fractional-v3"];
const root = path.join(testbedRoot(), "evaluator");
const featureDir = path.join(root, "gherkin");
const cases = loadGherkinCasesFromFiles(
	readdirSync(featureDir)
		.filter((f) => f.endsWith(".feature"))
		.sort()
		.map((f) => path.join(featureDir, f)),
);
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

for (const evaluatorMode of ["compiled", "interpreted"] as const) {
	describe(`evaluator testkit through the file provider (${evaluatorMode})`, () => {
		let client: Client;
		const counts = { passed: 0, failed: 0, skipped: 0 };
		const steps: StepDefinition[] = [
			{
				pattern: /^an evaluator$/,
				run(world) {
					world.client = client;
				},
			},
			...evaluationSteps,
		];

		beforeAll(async () => {
			const domain = `testkit-${evaluatorMode}`;
			await OpenFeature.setProviderAndWait(
				domain,
				new FlagdProvider({
					env: {},
					logger: quiet,
					resolver: "file",
					offlineFlagSourcePath: path.join(root, "flags", "testkit-flags.json"),
					evaluatorMode,
				}),
			);
			client = OpenFeature.getClient(domain);
		});

		afterAll(async () => {
			await OpenFeature.clearProviders();
			process.stdout.write(
				`evaluator testkit through the file provider (${evaluatorMode}): ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
			);
		});

		for (const testCase of cases) {
			const title = `${testCase.featureFile}: ${testCase.name}`;
			if (hasAnyTag(testCase, SKIPPED_TAGS)) {
				counts.skipped += 1;
				it.skip(`${title} — excluded: ${testCase.tags.filter((t) => SKIPPED_TAGS.includes(t)).join(" ")} (not flagd 0.16's bucketing)`, () =>
					undefined);
				continue;
			}
			it(title, async () => {
				try {
					// Evaluation steps never read the environment (no daemon is involved).
					const world = new ConformanceWorld({} as ConformanceEnvironment);
					for (const step of testCase.steps) {
						// The testkit's example tables escape quotes inside JSON values (\").
						const text = step.text
							.replace(/ and a fallback value "/, ' and a default value "')
							.replaceAll('\\"', '"');
						const definition = steps.find((s) => s.pattern.test(text));
						if (definition === undefined)
							throw new Error(`undefined step: "${step.text}"`);
						await definition.run(
							world,
							definition.pattern.exec(text)?.slice(1) ?? [],
							step.dataTable,
						);
					}
					counts.passed += 1;
				} catch (error: unknown) {
					counts.failed += 1;
					throw error;
				}
			});
		}
	});
}
