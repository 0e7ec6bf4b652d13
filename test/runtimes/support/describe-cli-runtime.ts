/**
 * The suite every command-line runtime from npm (Deno, Bun) runs against the provider: the scenario script
 * (provider-scenario.ts) and the documented example server, both from a consumer project's node_modules against
 * the real daemon on 127.0.0.1, plus the check that the runtime's page shows the example file as it is. The
 * runtimes differ only in their name, their binary and the flags their `run` needs (Deno's permissions and V8
 * flags), so those are the parameters; a missing binary reports `SKIPPED: <reason>` instead of passing.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { runExampleServer } from "./run-example-server.js";
import { runScenario } from "./run-scenario.js";
import { findRuntime } from "./runtime-binary.js";
import { type RuntimeDaemon, startRuntimeDaemon } from "./runtime-daemon.js";
import {
	documentedExample,
	expectScenarioResults,
	freePort,
} from "./scenario-expectations.js";
import { type ConsumerProject, stageConsumer } from "./stage-consumer.js";

export interface CliRuntimeSuiteOptions {
	/** As the titles name it, e.g. "Deno". */
	readonly title: string;
	/** The npm package and binary, e.g. "deno"; its page is docs/runtimes/<binary>.md. */
	readonly binary: "deno" | "bun";
	/** Flags between `run` and the scenario script. */
	readonly scenarioFlags: readonly string[];
	/** Flags between `run` and the example server. */
	readonly exampleFlags: readonly string[];
}

const REPO = path.resolve(__dirname, "../../..");

/** Declares the suite (see the file comment) in the calling test file. */
export function describeCliRuntime(options: CliRuntimeSuiteOptions): void {
	const runtime = findRuntime(options.binary);
	const example = `docs/examples/${options.binary}/server.ts`;
	const page = `docs/runtimes/${options.binary}.md`;

	if (!runtime.ok) {
		describe(`provider on ${options.title}`, () => {
			it.skip(`SKIPPED: ${runtime.reason}`, () => undefined);
		});
	} else {
		const binary = runtime.path;
		describe(`provider on ${options.title} (${runtime.version})`, () => {
			let daemon: RuntimeDaemon;
			let consumer: ConsumerProject;

			beforeAll(async () => {
				consumer = await stageConsumer();
				daemon = await startRuntimeDaemon();
			}, 60_000);

			afterAll(async () => {
				await daemon?.close();
				consumer?.remove();
			});

			it("evaluates every type, serves CACHED, sees a change, resolves in-process and fails fast when unreachable", async () => {
				const script = consumer.addFile(
					"test/runtimes/support/provider-scenario.ts",
				);
				const deadPort = await freePort();
				const records = await runScenario(
					binary,
					[
						"run",
						...options.scenarioFlags,
						script,
						JSON.stringify({
							evaluationPort: daemon.evaluationPort,
							syncPort: daemon.syncPort,
							deadPort,
						}),
					],
					{ cwd: consumer.dir, daemon, timeoutMs: 90_000 },
				);
				expectScenarioResults(records);
			}, 120_000);

			it(`runs the documented example server (${example})`, async () => {
				const server = consumer.addFile(example);
				const port = await freePort();
				const body = await runExampleServer(
					binary,
					["run", ...options.exampleFlags, server],
					{
						cwd: consumer.dir,
						env: {
							FLAGD_HOST: "127.0.0.1",
							FLAGD_PORT: String(daemon.evaluationPort),
							PORT: String(port),
						},
						url: `http://127.0.0.1:${port}/`,
						timeoutMs: 60_000,
					},
				);
				expect(body).toEqual({
					greeting: "hello from flagd",
					reason: "STATIC",
				});
			}, 90_000);
		});
	}

	describe(`${options.title} documentation`, () => {
		it(`${page} shows ${example} as it is`, () => {
			expect(
				documentedExample(readFileSync(path.join(REPO, page), "utf8"), example),
			).toBe(readFileSync(path.join(REPO, example), "utf8"));
		});
	});
}
