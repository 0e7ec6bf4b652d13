/**
 * The flagd-testbed `config.feature` scenarios tagged @rpc, run against `resolveFlagdProviderOptions` (the one
 * pure function behind the provider's configuration). No daemon is needed. The feature file is read in place
 * from ../shared/testbed.
 */
import path from "node:path";
import {
	type FlagdProviderOptions,
	resolveFlagdProviderOptions,
} from "@flagd-ts/provider";
import { describe, expect, it } from "@jest/globals";
import {
	type GherkinCase,
	loadGherkinCases,
	testbedRoot,
} from "../support/gherkin-cases.js";

const cases = loadGherkinCases(
	path.join(testbedRoot(), "gherkin", "config.feature"),
);
const rpcCases = cases.filter((c) => c.tags.includes("@rpc"));

/** Converts a gherkin value to the option's type as the testbed defines the types. */
function typed(type: string, value: string): unknown {
	switch (type) {
		case "Integer":
		case "Long":
			return Number.parseInt(value, 10);
		case "Boolean":
			return value.toLowerCase() === "true";
		case "String":
			return value === "null" ? undefined : value;
		case "StringList":
			return value
				.split(",")
				.map((s) => s.trim())
				.filter((s) => s.length > 0);
		case "ResolverType":
		case "CacheType":
			return value.toLowerCase();
		default:
			throw new Error(`unknown option type ${type} in config.feature`);
	}
}

const OPTION = /^an option "([^"]+)" of type "([^"]+)" with value "([^"]*)"$/;
const ENV = /^an environment variable "([^"]+)" with value "([^"]*)"$/;
const THEN =
	/^the option "([^"]+)" of type "([^"]+)" should have the value "([^"]*)"$/;

function run(testCase: GherkinCase): void {
	const options: Record<string, unknown> = {};
	const env: Record<string, string> = {};
	let result: ReturnType<typeof resolveFlagdProviderOptions> | undefined;
	let error: unknown;
	let checked = 0;
	for (const { text } of testCase.steps) {
		let m = OPTION.exec(text);
		if (m) {
			options[m[1] ?? ""] = typed(m[2] ?? "", m[3] ?? "");
			continue;
		}
		m = ENV.exec(text);
		if (m) {
			env[m[1] ?? ""] = m[2] ?? "";
			continue;
		}
		if (text === "a config was initialized") {
			try {
				result = resolveFlagdProviderOptions(
					options as FlagdProviderOptions,
					env,
				);
			} catch (e) {
				error = e;
			}
			continue;
		}
		m = THEN.exec(text);
		if (m) {
			expect(error).toBeUndefined();
			const config = (result?.config ?? {}) as unknown as Record<
				string,
				unknown
			>;
			const actual = config[m[1] ?? ""];
			expect(actual).toEqual(typed(m[2] ?? "", m[3] ?? ""));
			checked += 1;
			continue;
		}
		if (text === "we should have an error") {
			expect(error).toBeDefined();
			checked += 1;
			continue;
		}
		throw new Error(`step not implemented: ${text}`);
	}
	expect(checked).toBeGreaterThan(0);
}

describe("testbed config.feature (@rpc)", () => {
	it("has the @rpc scenarios", () => {
		expect(rpcCases.length).toBeGreaterThanOrEqual(60);
	});

	it.each(rpcCases.map((c) => [c.name, c] as const))(
		"%s",
		(_name, testCase) => {
			run(testCase);
		},
	);
});
