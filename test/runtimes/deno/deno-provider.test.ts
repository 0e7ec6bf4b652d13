/**
 * @flagd-ts/provider in Deno 2 (the npm `deno` binary): the package resolved through its `deno` export condition
 * from a consumer project's node_modules, against the real daemon on 127.0.0.1. Deno runs with network access to
 * 127.0.0.1 only, no environment or file permissions, and V8's `--disallow-code-generation-from-strings` (as
 * Workers and Vercel Edge do), so any `eval`/`new Function` on the way fails the run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { runExampleServer } from "../support/run-example-server.js";
import { runScenario } from "../support/run-scenario.js";
import { findRuntime } from "../support/runtime-binary.js";
import {
	type RuntimeDaemon,
	startRuntimeDaemon,
} from "../support/runtime-daemon.js";
import {
	documentedExample,
	expectScenarioResults,
	freePort,
} from "../support/scenario-expectations.js";
import {
	type ConsumerProject,
	stageConsumer,
} from "../support/stage-consumer.js";

const deno = findRuntime("deno");
const NO_CODE_GENERATION = "--v8-flags=--disallow-code-generation-from-strings";

if (!deno.ok) {
	describe("provider on Deno", () => {
		it.skip(`SKIPPED: ${deno.reason}`, () => undefined);
	});
} else {
	const binary = deno.path;
	describe(`provider on Deno (${deno.version})`, () => {
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
					"--allow-net=127.0.0.1",
					NO_CODE_GENERATION,
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

		it("runs the documented example server (docs/examples/deno/server.ts)", async () => {
			const server = consumer.addFile("docs/examples/deno/server.ts");
			const port = await freePort();
			const body = await runExampleServer(
				binary,
				[
					"run",
					"--allow-net=127.0.0.1",
					"--allow-env=FLAGD_HOST,FLAGD_PORT,PORT",
					NO_CODE_GENERATION,
					server,
				],
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
			expect(body).toEqual({ greeting: "hello from flagd", reason: "STATIC" });
		}, 90_000);
	});
}

describe("Deno documentation", () => {
	it("docs/runtimes/deno.md shows docs/examples/deno/server.ts as it is", () => {
		const repo = path.resolve(__dirname, "../../..");
		const file = "docs/examples/deno/server.ts";
		expect(
			documentedExample(
				readFileSync(path.join(repo, "docs/runtimes/deno.md"), "utf8"),
				file,
			),
		).toBe(readFileSync(path.join(repo, file), "utf8"));
	});
});
