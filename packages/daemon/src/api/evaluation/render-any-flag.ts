/**
 * How ResolveAll renders one flag's result (resolve-all.ts): as an AnyFlag of the type of the flag's default
 * variant's value, with that type's zero value for errors and disabled flags; flags without a default variant, or
 * whose default value has no AnyFlag type, are left out.
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { EvaluationResult, FlagValueType } from "@flagd-ts/evaluator";
import type { AnyFlag } from "@flagd-ts/protocol/evaluation-v1";
import type { StoredFlag } from "../../store/stored-flag.js";

/** An AnyFlag as connect takes it (a message init). */
export type AnyFlagInit = Pick<AnyFlag, "reason" | "variant" | "metadata"> & {
	value: AnyFlag["value"];
};

/** The type a flag resolves with in ResolveAll; undefined leaves it out (v1 skips code-default flags). */
export function resolveAllType(flag: StoredFlag): FlagValueType | undefined {
	const definition = flag.compiled.definition;
	if (definition.defaultVariant === null) return undefined;
	return typeOfValue(definition.variants[definition.defaultVariant]);
}

export function renderAnyFlag(
	result: EvaluationResult,
	type: FlagValueType,
): AnyFlagInit | undefined {
	const metadata = result.metadata as JsonObject;
	if (result.errorCode !== undefined) {
		return {
			reason: "ERROR",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.reason === "DISABLED") {
		return {
			reason: "DISABLED",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.value === undefined || result.variant === undefined)
		return undefined;
	return {
		reason: result.reason,
		variant: result.variant,
		value: anyValue(type, result.value),
		metadata,
	};
}

/** The AnyFlag oneof for a value of a type; `undefined` gives the type's zero value. */
function anyValue(
	type: FlagValueType,
	value: JsonValue | undefined,
): AnyFlag["value"] {
	switch (type) {
		case "boolean":
			return {
				case: "boolValue",
				value: (value as boolean | undefined) ?? false,
			};
		case "string":
			return {
				case: "stringValue",
				value: (value as string | undefined) ?? "",
			};
		case "number":
		case "integer":
			return { case: "doubleValue", value: (value as number | undefined) ?? 0 };
		case "object":
			return {
				case: "objectValue",
				value: (value as JsonObject | undefined) ?? {},
			} as AnyFlag["value"];
	}
}

/** ResolveAll resolves each flag with the type of its default variant's value. */
function typeOfValue(value: JsonValue | undefined): FlagValueType | undefined {
	if (typeof value === "boolean") return "boolean";
	if (typeof value === "string") return "string";
	if (typeof value === "number") return "number";
	if (value !== null && typeof value === "object" && !Array.isArray(value))
		return "object";
	return undefined;
}
