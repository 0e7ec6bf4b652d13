/**
 * docs/migration-from-flagd-provider.md: the "before" program (the real @openfeature/flagd-provider 0.16.1, over
 * @grpc/grpc-js) and the "after" program (@flagd-ts/provider) run against the same real daemon and print the
 * documented lines; the two files differ only in the comment and the import.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DocPage, REPO_ROOT } from "./doc-blocks.js";
import { SLOW_MACHINE_ENV } from "./doc-daemon.js";
import { type ExampleDaemon, startExampleDaemon } from "./example-daemon.js";
import { type Settled, settled, unwrap } from "./settled.js";
import { type ExitResult, runShell } from "./shell-process.js";

const page = new DocPage("migration-from-flagd-provider.md");
const BEFORE = "docs/examples/node/migration-before.ts";
const AFTER = "docs/examples/node/migration-after.ts";

describe("docs/migration-from-flagd-provider.md", () => {
	let daemon: ExampleDaemon;

	let runs: Record<string, Promise<Settled<ExitResult & { script: string }>>>;

	// Both programs run at the same time against one daemon.
	beforeAll(async () => {
		daemon = await startExampleDaemon();
		runs = Object.fromEntries(
			["run-before", "run-after"].map((id) => {
				const script = page.run(id);
				const run = runShell(script, {
					env: {
						...SLOW_MACHINE_ENV,
						FLAGD_PORT: String(daemon.ports.evaluation),
					},
				}).then((r) => ({ ...r, script }));
				return [id, settled(run)];
			}),
		);
	});

	afterAll(async () => {
		await Promise.all(Object.values(runs ?? {}));
		await daemon?.dispose();
	});

	it("the two programs differ only in their first comment and the import", () => {
		const lines = (file: string): string[] =>
			readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n");
		const before = lines(BEFORE);
		const after = lines(AFTER);
		expect(after.length).toBe(before.length);
		const differing = before
			.map((line, i) =>
				line === after[i] ? undefined : `${line} → ${after[i]}`,
			)
			.filter((d) => d !== undefined);
		expect(differing).toEqual([
			"// Before the migration: @openfeature/flagd-provider in RPC mode. → // After the migration: @flagd-ts/provider. Only the import changed.",
			'import { FlagdProvider } from "@openfeature/flagd-provider"; → import { FlagdProvider } from "@flagd-ts/provider";',
		]);
	});

	it.each([
		["run-before", BEFORE],
		["run-after", AFTER],
	])("%s prints the documented lines", async (id, file) => {
		const result = await unwrap(runs[id] ?? Promise.reject(new Error(id)));
		expect(result.script).toContain(page.sample(file));
		expect(result.stdout).toBe(page.output("migration-output"));
		expect(result.code).toBe(0);
	});

	it("ran or compared every block of the page", () => {
		expect(page.unused()).toEqual([]);
	});
});
