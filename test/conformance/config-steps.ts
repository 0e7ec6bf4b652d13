/**
 * Step definitions for the provider configuration scenarios (config.feature) and the `an option …` /
 * `an environment variable …` steps every feature uses. `a config was initialized` runs the provider's own option
 * resolution (`resolveFlagdProviderOptions`: explicit option > FLAGD_* env > default) with exactly the options and
 * variables the scenario declared; process.env is never read.
 */

import { resolveFlagdProviderOptions } from "@flagd-ts/provider";
import {
	arg,
	type ConformanceWorld,
	convertOptionValue,
	jsonEqual,
	type StepDefinition,
} from "./conformance-world.js";

function requireConfig(
	world: ConformanceWorld,
): Readonly<Record<string, unknown>> {
	const result = world.config;
	if (result === undefined) throw new Error("no config was initialized");
	if (!result.ok)
		throw new Error(`config initialization failed: ${String(result.error)}`);
	return result.value;
}

/** See the file comment. */
export const configSteps: readonly StepDefinition[] = [
	{
		pattern: /^an option "([^"]*)" of type "(\w+)" with value "(.*)"$/,
		run(world, args) {
			world.options[arg(args, 0)] = convertOptionValue(
				arg(args, 1),
				arg(args, 2),
			);
		},
	},
	{
		pattern: /^an environment variable "([^"]*)" with value "(.*)"$/,
		run(world, args) {
			world.env[arg(args, 0)] = arg(args, 1);
		},
	},
	{
		pattern: /^a config was initialized$/,
		run(world) {
			try {
				const { config } = resolveFlagdProviderOptions(
					world.options,
					world.env,
				);
				world.config = {
					ok: true,
					value: config as unknown as Readonly<Record<string, unknown>>,
				};
			} catch (error: unknown) {
				world.config = { ok: false, error };
			}
		},
	},
	{
		pattern:
			/^the option "([^"]*)" of type "(\w+)" should have the value "(.*)"$/,
		run(world, args) {
			const name = arg(args, 0);
			const config = requireConfig(world);
			if (!Object.hasOwn(config, name))
				throw new Error(`the provider config has no option "${name}"`);
			const actual = config[name];
			const raw = arg(args, 2);
			const expected =
				raw === "null" ? undefined : convertOptionValue(arg(args, 1), raw);
			const comparable = actual === null ? undefined : actual;
			if (!jsonEqual(comparable, expected)) {
				throw new Error(
					`option ${name} = ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
				);
			}
		},
	},
	{
		pattern: /^we should have an error$/,
		run(world) {
			if (world.config === undefined)
				throw new Error("no config was initialized");
			if (world.config.ok)
				throw new Error("config initialization succeeded, expected an error");
		},
	},
];
