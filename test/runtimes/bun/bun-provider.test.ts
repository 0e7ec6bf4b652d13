/**
 * @flagd-ts/provider in Bun (the npm `bun` binary): the package resolved through its `bun` export condition from
 * a consumer project's node_modules, against the real daemon on 127.0.0.1. Bun (JavaScriptCore) has no switch
 * that forbids code generation, so this run cannot prove the absence of `eval`; the Deno test and the bundle test
 * (edge-bundle.test.ts) do.
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

const bun = findRuntime("bun");

if (!bun.ok) {
	describe("provider on Bun", () => {
		it.skip(`SKIPPED: ${bun.reason}`, () => undefined);
	});
} else {
	const binary = bun.path;
	describe(`provider on Bun (${bun.version})`, () => {
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

		it("runs the documented example server (docs/examples/bun/server.ts)", async () => {
			const server = consumer.addFile("docs/examples/bun/server.ts");
			const port = await freePort();
			const body = await runExampleServer(binary, ["run", server], {
				cwd: consumer.dir,
				env: {
					FLAGD_HOST: "127.0.0.1",
					FLAGD_PORT: String(daemon.evaluationPort),
					PORT: String(port),
				},
				url: `http://127.0.0.1:${port}/`,
				timeoutMs: 60_000,
			});
			expect(body).toEqual({ greeting: "hello from flagd", reason: "STATIC" });
		}, 90_000);
	});
}

describe("Bun documentation", () => {
	it("docs/runtimes/bun.md shows docs/examples/bun/server.ts as it is", () => {
		const repo = path.resolve(__dirname, "../../..");
		const file = "docs/examples/bun/server.ts";
		expect(
			documentedExample(
				readFileSync(path.join(repo, "docs/runtimes/bun.md"), "utf8"),
				file,
			),
		).toBe(readFileSync(path.join(repo, file), "utf8"));
	});
});
