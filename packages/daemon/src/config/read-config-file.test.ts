import { describe, expect, it } from "@jest/globals";
import { readConfigFile } from "./read-config-file.js";

const files = (content: Record<string, string>) => (path: string) => {
	const text = content[path];
	if (text === undefined)
		throw new Error(`ENOENT: no such file or directory, open '${path}'`);
	return text;
};

function valuesOf(path: string, text: string): Record<string, unknown> {
	const { layer, problems } = readConfigFile(path, files({ [path]: text }));
	expect(problems).toEqual([]);
	return Object.fromEntries([...layer].map(([k, v]) => [k, v.items[0]?.value]));
}

describe("readConfigFile", () => {
	it("reads JSON with long flag names as keys", () => {
		expect(
			valuesOf(
				"f.json",
				'{"port": 9000, "uri": ["file:a.json"], "debug": true}',
			),
		).toEqual({
			port: 9000,
			uri: ["file:a.json"],
			debug: true,
		});
	});

	it("reads YAML (.yaml and .yml), keys matched case-insensitively, null values unset", () => {
		const yaml =
			"Port: 9000\ncontext-value:\n  region: eu\n  tier: 3\nsync-port:\n";
		expect(valuesOf("f.yaml", yaml)).toEqual({
			port: 9000,
			"context-value": { region: "eu", tier: 3 },
		});
		expect(valuesOf("f.yml", "log-format: json\n")).toEqual({
			"log-format": "json",
		});
		expect(valuesOf("empty.yaml", "")).toEqual({});
	});

	it("labels values with file and key", () => {
		const { layer } = readConfigFile(
			"f.yaml",
			files({ "f.yaml": "port: abc\n" }),
		);
		expect(layer.get("port")?.items[0]?.label).toBe("f.yaml: port: abc");
	});

	it.each([
		[
			"missing.json",
			undefined,
			/^--config missing\.json: cannot read the file: ENOENT/,
		],
		["f.toml", "port = 1", /unsupported file type/],
		["f.json", "{port: 1}", /^--config f\.json: not valid JSON: /],
		["f.yaml", "port: [1", /^--config f\.yaml: not valid YAML: /],
		["f.json", "[1, 2]", /top level must be a mapping/],
	])("reports %s as a problem", (path, text, pattern) => {
		const { layer, problems } = readConfigFile(
			path,
			files(text === undefined ? {} : { [path]: text }),
		);
		expect(layer.size).toBe(0);
		expect(problems).toHaveLength(1);
		expect(problems[0]).toMatch(pattern);
	});

	it("reports unknown keys (with a suggestion) and a nested config key, keeping the valid ones", () => {
		const { layer, problems } = readConfigFile(
			"f.json",
			files({ "f.json": '{"prot": 1, "config": "x.yaml", "port": 2}' }),
		);
		expect(problems).toEqual([
			'f.json: unknown key "prot" (did you mean "port"?)',
			'f.json: key "config" cannot name another config file',
		]);
		expect(layer.get("port")?.items[0]?.value).toBe(2);
	});

	it("does not pollute prototypes with a __proto__ key", () => {
		const { problems } = readConfigFile(
			"f.json",
			files({ "f.json": '{"__proto__": {"polluted": true}}' }),
		);
		expect(problems).toEqual(['f.json: unknown key "__proto__"']);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});
