// The flag table against what users read and run: docs/configuration.md documents every option, and the example
// config files in docs/examples resolve without problems.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { CONFIG_FLAG, DAEMON_FLAGS, envVarName } from "./daemon-flags.js";
import { resolveDaemonConfig } from "./resolve-daemon-config.js";

const repoRoot = resolve(__dirname, "../../../..");

describe("DAEMON_FLAGS", () => {
	it("has unique long names and unique short forms", () => {
		const names = [...DAEMON_FLAGS, CONFIG_FLAG].map((f) => f.name);
		const shorts = DAEMON_FLAGS.flatMap((f) =>
			f.short === undefined ? [] : [f.short],
		);
		expect(new Set(names).size).toBe(names.length);
		expect(new Set(shorts).size).toBe(shorts.length);
		// -h is help, so no option may take it.
		expect(shorts).not.toContain("h");
	});

	it("is documented in docs/configuration.md: flag, short form, env var, config key and default", () => {
		const doc = readFileSync(
			resolve(repoRoot, "docs/configuration.md"),
			"utf8",
		);
		for (const flag of [...DAEMON_FLAGS, CONFIG_FLAG]) {
			const row = doc
				.split("\n")
				.find((line) => line.startsWith(`| \`--${flag.name}\` |`));
			expect({ flag: flag.name, row }).toEqual({
				flag: flag.name,
				row: expect.any(String),
			});
			expect(row).toContain(`\`${envVarName(flag.name)}\``);
			if (flag.short !== undefined) expect(row).toContain(`\`-${flag.short}\``);
			if (flag !== CONFIG_FLAG) {
				expect(row).toContain(`| \`${flag.name}\` |`);
				expect(row).toContain(
					`| \`${flag.defaultText === "" ? '""' : flag.defaultText}\` |`,
				);
			}
		}
	});
});

describe("docs/examples config files", () => {
	it.each(["flagd.yaml", "flagd.json"])(
		"%s resolves without problems",
		(name) => {
			const path = resolve(repoRoot, "docs/examples", name);
			const { config, warnings } = resolveDaemonConfig({
				argv: ["--config", path],
				env: {},
			});
			expect(warnings).toEqual([]);
			expect(config).toMatchObject({
				port: 8013,
				bindAddress: "127.0.0.1",
				staticContext: { environment: "development" },
				headerContext: { "x-user-tier": "tier" },
				corsOrigins: ["http://localhost:3000"],
				streamDeadlineMs: 600_000,
			});
			expect(config.sources).toEqual([
				expect.objectContaining({
					uri: "docs/examples/flags.json",
					provider: "file",
				}),
			]);
		},
	);
});
