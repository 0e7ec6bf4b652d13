import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { FLAGD_PROVIDER_OPTION_SPECS } from "./option-table.js";

/** Renders the README's option table from the specs (the README section must equal this). */
function optionTableMarkdown(): string {
	const rows = FLAGD_PROVIDER_OPTION_SPECS.map((s) => {
		const type =
			s.kind === "enum"
				? (s.values ?? []).map((v) => `\`${v}\``).join(" \\| ")
				: s.kind;
		const env = s.env === undefined ? "–" : `\`${s.env}\``;
		return `| \`${s.name}\` | ${env} | ${type} | \`${s.defaultText}\` | ${s.doc} |`;
	});
	return [
		"| Option | Environment variable | Type | Default | Meaning |",
		"|---|---|---|---|---|",
		...rows,
	].join("\n");
}

describe("README", () => {
	const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

	it("has the option table generated from the option specs", () => {
		const section =
			/<!-- options:start[^>]*-->\n([\s\S]*?)\n<!-- options:end -->/.exec(
				readme,
			);
		expect(section?.[1]).toBe(optionTableMarkdown());
	});

	it("documents every option once", () => {
		for (const spec of FLAGD_PROVIDER_OPTION_SPECS) {
			expect(readme).toContain(`| \`${spec.name}\` |`);
		}
	});
});
