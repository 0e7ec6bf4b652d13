import { describe, expect, it } from "@jest/globals";
import { DAEMON_FLAGS } from "./daemon-flags.js";
import { parseArgv } from "./parse-argv.js";

function values(argv: string[], name: string): unknown[] | undefined {
	return parseArgv(argv)
		.layer.get(name)
		?.items.map((i) => i.value);
}

describe("parseArgv", () => {
	it("reads --name value, --name=value, -s value, -s=value and -svalue", () => {
		expect(values(["--port", "1"], "port")).toEqual(["1"]);
		expect(values(["--port=2"], "port")).toEqual(["2"]);
		expect(values(["-p", "3"], "port")).toEqual(["3"]);
		expect(values(["-p=4"], "port")).toEqual(["4"]);
		expect(values(["-p5"], "port")).toEqual(["5"]);
	});

	it("accepts every short form from the flag table", () => {
		for (const flag of DAEMON_FLAGS.filter((f) => f.short !== undefined)) {
			const argv =
				flag.kind === "boolean" ? [`-${flag.short}`] : [`-${flag.short}`, "v"];
			const parsed = parseArgv(argv);
			expect(parsed.problems).toEqual([]);
			expect(parsed.layer.has(flag.name)).toBe(true);
		}
	});

	it("accepts every long form from the flag table", () => {
		for (const flag of DAEMON_FLAGS) {
			const parsed = parseArgv([`--${flag.name}=v`]);
			expect(parsed.problems).toEqual([]);
			expect(parsed.layer.get(flag.name)?.items[0]?.value).toBe("v");
		}
	});

	it("treats a bare boolean as true and accepts --flag=false", () => {
		expect(values(["--debug"], "debug")).toEqual(["true"]);
		expect(values(["-x"], "debug")).toEqual(["true"]);
		expect(values(["--debug=false"], "debug")).toEqual(["false"]);
		// A bare boolean does not swallow the next argument.
		expect(
			parseArgv(["-x", "-p", "1"]).layer.get("port")?.items[0]?.value,
		).toBe("1");
	});

	it("keeps every occurrence of a repeated flag, in order", () => {
		expect(
			values(
				["-X", "a=b", "-X", "c=d", "--context-value=e=f"],
				"context-value",
			),
		).toEqual(["a=b", "c=d", "e=f"]);
		expect(
			values(["-f", "file:a.json", "--uri", "file:b.json"], "uri"),
		).toEqual(["file:a.json", "file:b.json"]);
	});

	it("labels each value as the user wrote it", () => {
		const items = parseArgv(["-p", "abc", "--management-port=x"]).layer;
		expect(items.get("port")?.items[0]?.label).toBe("-p abc");
		expect(items.get("management-port")?.items[0]?.label).toBe(
			"--management-port=x",
		);
	});

	it("reads --config separately from the option layer", () => {
		const parsed = parseArgv(["--config", "flagd.yaml", "-p", "1"]);
		expect(parsed.configPath?.value).toBe("flagd.yaml");
		expect(parsed.layer.has("config")).toBe(false);
	});

	it("reports unknown flags with a suggestion, missing values and stray arguments, all together", () => {
		const parsed = parseArgv([
			"--prot",
			"1",
			"-Q",
			"--debug",
			"extra",
			"--uri",
			"--",
			"more",
			"--port",
		]);
		expect(parsed.problems).toEqual([
			"unknown flag --prot (did you mean --port?)",
			"unknown shorthand flag -Q in -Q",
			'unexpected argument "extra" (flagd start takes only flags)',
			"--uri needs a value",
			'unexpected argument "more"',
			'unexpected argument "--port"',
		]);
		expect(parseArgv(["--port"]).problems).toEqual(["--port needs a value"]);
		expect(parseArgv(["--uri", "--port", "1"]).problems).toEqual([
			"--uri needs a value",
		]);
	});

	it("takes a negative number as a value so the range check can name it", () => {
		expect(values(["-p", "-1"], "port")).toEqual(["-1"]);
	});
});
