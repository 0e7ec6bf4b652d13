/**
 * docs/configuration.md and `flagd start --help` are two views of one table, packages/daemon/src/config/daemon-flags.ts:
 * every option has a row with its short form, env var, config key and default, every row names a real option, and
 * what the daemon does not do for an option (`limitation`) is said word for word in both.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { formatStartHelp } from "../../packages/daemon/src/cli/help-text.js";
import {
	CONFIG_FLAG,
	DAEMON_FLAGS,
	envVarName,
	type FlagSpec,
} from "../../packages/daemon/src/config/daemon-flags.js";
import { REPO_ROOT } from "./doc-blocks.js";

interface Row {
	readonly cells: Readonly<Record<string, string>>;
	readonly text: string;
}

/** Every row of every table whose first column is `Flag`, keyed by the option's long name. */
function optionRows(markdown: string): Map<string, Row> {
	const rows = new Map<string, Row>();
	let header: string[] | undefined;
	for (const line of markdown.split("\n")) {
		if (!line.startsWith("|")) {
			header = undefined;
			continue;
		}
		const cells = line
			.slice(1, line.endsWith("|") ? -1 : undefined)
			.split("|")
			.map((c) => c.trim());
		if (header === undefined) {
			header = cells[0] === "Flag" ? cells : [];
			continue;
		}
		const name = /^`--([a-z-]+)`$/.exec(cells[0] ?? "")?.[1];
		if (header.length === 0 || name === undefined) continue;
		const byColumn: Record<string, string> = {};
		header.forEach((column, i) => {
			byColumn[column] = cells[i] ?? "";
		});
		rows.set(name, { cells: byColumn, text: line });
	}
	return rows;
}

const markdown = readFileSync(
	path.join(REPO_ROOT, "docs/configuration.md"),
	"utf8",
);
const rows = optionRows(markdown);
const flags: readonly FlagSpec[] = [...DAEMON_FLAGS, CONFIG_FLAG];
const code = (text: string) => `\`${text}\``;
const squash = (text: string) => text.replace(/\s+/g, " ");

describe("docs/configuration.md and --help", () => {
	it("has a row for every option, and every row is an option", () => {
		expect([...rows.keys()].sort()).toEqual(flags.map((f) => f.name).sort());
	});

	it.each(flags.map((f) => [f.name, f] as const))(
		"--%s: short form, env var, config key and default as the table says",
		(_name, flag) => {
			const { cells } = rows.get(flag.name) as Row;
			if ("Short" in cells)
				expect(cells.Short).toBe(
					flag.short === undefined ? "" : code(`-${flag.short}`),
				);
			else expect(flag.short).toBeUndefined();
			expect(cells["Env var"]).toBe(code(envVarName(flag.name)));
			if ("Config key" in cells)
				expect(cells["Config key"]).toBe(code(flag.name));
			const shown = flag.defaultText === "" ? '""' : flag.defaultText;
			if (flag !== CONFIG_FLAG) expect(cells.Default).toBe(code(shown));
		},
	);

	const limited = flags.filter((f) => f.limitation !== undefined);

	it("names what is not done, for the options that have limits", () => {
		expect(limited.map((f) => f.name).sort()).toEqual(["otel-collector-uri"]);
	});

	it.each(limited.map((f) => [f.name, f] as const))(
		"--%s: the limitation is said word for word in --help and in the docs",
		(_name, flag) => {
			const limitation = flag.limitation as string;
			expect(rows.get(flag.name)?.cells.Meaning).toContain(limitation);
			expect(squash(formatStartHelp())).toContain(limitation);
		},
	);

	it("says OTLP/HTTP, the protocol the daemon speaks, for the collector", () => {
		const help = squash(formatStartHelp());
		expect(help).toContain("OTLP/HTTP collector base URL");
		expect(help).not.toMatch(/OTLP gRPC collector/);
	});
});
