/**
 * Step definitions for flags, contexts, evaluation and the detail assertions (value, reason, variant, error code,
 * metadata table, empty metadata). Evaluations go through the OpenFeature server SDK client, so whatever provider
 * the scenario set up (our FlagdProvider, or the OFREP / v1 test providers) is held to the same assertions.
 */
import type {
	EvaluationDetails,
	FlagValue,
	JsonValue,
} from "@openfeature/server-sdk";
import {
	arg,
	type ConformanceWorld,
	convertContextValue,
	convertFlagValue,
	type FlagType,
	jsonEqual,
	type StepDefinition,
} from "./conformance-world.js";

const FLAG_TYPES: readonly FlagType[] = [
	"Boolean",
	"String",
	"Integer",
	"Float",
	"Object",
];

function flagType(raw: string): FlagType {
	if ((FLAG_TYPES as readonly string[]).includes(raw)) return raw as FlagType;
	throw new Error(`unknown flag type "${raw}"`);
}

function requireDetails(world: ConformanceWorld): EvaluationDetails<FlagValue> {
	if (world.details === undefined)
		throw new Error("the flag was not evaluated yet");
	return world.details;
}

function describeDetails(details: EvaluationDetails<FlagValue>): string {
	return JSON.stringify({
		value: details.value,
		variant: details.variant,
		reason: details.reason,
		errorCode: details.errorCode,
		errorMessage: details.errorMessage,
	});
}

async function evaluate(world: ConformanceWorld): Promise<void> {
	const flag = world.flag;
	const client = world.client;
	if (flag === undefined)
		throw new Error("no flag was declared in this scenario");
	if (client === undefined)
		throw new Error("no provider was set up in this scenario");
	const { key, defaultValue } = flag;
	switch (flag.type) {
		case "Boolean":
			world.details = await client.getBooleanDetails(
				key,
				defaultValue as boolean,
				world.context,
			);
			return;
		case "String":
			world.details = await client.getStringDetails(
				key,
				defaultValue as string,
				world.context,
			);
			return;
		case "Integer":
		case "Float":
			world.details = await client.getNumberDetails(
				key,
				defaultValue as number,
				world.context,
			);
			return;
		case "Object":
			world.details = await client.getObjectDetails(
				key,
				defaultValue as JsonValue,
				world.context,
			);
			return;
	}
}

/** Metadata table values are strings with a declared type (Boolean, Integer, Float, String). */
function metadataValue(type: string, raw: string): unknown {
	switch (type) {
		case "Boolean":
			return raw === "true";
		case "Integer":
		case "Float":
		case "Long":
			return Number(raw);
		default:
			return raw;
	}
}

/** See the file comment. */
export const evaluationSteps: readonly StepDefinition[] = [
	{
		pattern: /^a (\w+)-flag with key "([^"]*)" and a default value "(.*)"$/,
		run(world, args) {
			const type = flagType(arg(args, 0));
			world.flag = {
				type,
				key: arg(args, 1),
				defaultValue: convertFlagValue(type, arg(args, 2)),
			};
		},
	},
	{
		pattern:
			/^a context containing a key "([^"]*)", with type "(\w+)" and with value "(.*)"$/,
		run(world, args) {
			world.context = {
				...world.context,
				[arg(args, 0)]: convertContextValue(arg(args, 1), arg(args, 2)),
			};
		},
	},
	{
		pattern: /^a context containing a targeting key with value "(.*)"$/,
		run(world, args) {
			world.context = { ...world.context, targetingKey: arg(args, 0) };
		},
	},
	{
		pattern:
			/^a context containing a nested property with outer key "([^"]*)" and inner key "([^"]*)", with value "(.*)"$/,
		run(world, args) {
			const outer = arg(args, 0);
			const existing = world.context[outer];
			const base =
				typeof existing === "object" &&
				existing !== null &&
				!Array.isArray(existing)
					? existing
					: {};
			world.context = {
				...world.context,
				[outer]: { ...base, [arg(args, 1)]: arg(args, 2) },
			};
		},
	},
	{
		pattern: /^the flag was evaluated with details$/,
		run: (world) => evaluate(world),
	},
	{
		pattern: /^the resolved details value should be "(.*)"$/,
		run(world, args) {
			const details = requireDetails(world);
			const type = world.flag?.type ?? "String";
			const expected = convertFlagValue(type, arg(args, 0));
			if (!jsonEqual(details.value, expected)) {
				throw new Error(
					`value ${JSON.stringify(details.value)} ≠ expected ${JSON.stringify(expected)}; details ${describeDetails(details)}`,
				);
			}
		},
	},
	{
		pattern: /^the reason should be "(.*)"$/,
		run(world, args) {
			const details = requireDetails(world);
			if (details.reason !== arg(args, 0)) {
				throw new Error(
					`reason ${String(details.reason)} ≠ expected ${arg(args, 0)}; details ${describeDetails(details)}`,
				);
			}
		},
	},
	{
		pattern: /^the variant should be "(.*)"$/,
		run(world, args) {
			const details = requireDetails(world);
			if ((details.variant ?? "") !== arg(args, 0)) {
				throw new Error(
					`variant ${String(details.variant)} ≠ expected ${arg(args, 0)}; details ${describeDetails(details)}`,
				);
			}
		},
	},
	{
		pattern: /^the error-code should be "(.*)"$/,
		run(world, args) {
			const details = requireDetails(world);
			if ((details.errorCode ?? "") !== arg(args, 0)) {
				throw new Error(
					`error code ${String(details.errorCode)} ≠ expected "${arg(args, 0)}"; details ${describeDetails(details)}`,
				);
			}
		},
	},
	{
		pattern: /^the resolved metadata should contain$/,
		run(world, _args, table) {
			const metadata = requireDetails(world).flagMetadata as Record<
				string,
				unknown
			>;
			if (table === undefined || table.length < 2)
				throw new Error("metadata step needs a table with a header row");
			for (const row of table.slice(1)) {
				const [key = "", type = "String", value = ""] = row;
				const expected = metadataValue(type, value);
				if (!jsonEqual(metadata[key], expected)) {
					throw new Error(
						`metadata ${key} = ${JSON.stringify(metadata[key])}, expected ${JSON.stringify(expected)}`,
					);
				}
			}
		},
	},
	{
		pattern: /^the resolved metadata is empty$/,
		run(world) {
			const metadata = requireDetails(world).flagMetadata;
			if (Object.keys(metadata).length > 0)
				throw new Error(
					`metadata is ${JSON.stringify(metadata)}, expected empty`,
				);
		},
	},
];
