import {
	createFractionalSchemeV2,
	type FractionalScheme,
	type FractionalVersion,
} from "./fractional-operator.js";
import { createFractionalSchemeV3 } from "./fractional-scheme-v3.js";
import {
	interpretTargeting,
	type TargetingFunction,
} from "./targeting-engine.js";
import { defaultTargetingMode, type TargetingMode } from "./targeting-mode.js";
import { tieredTargeting } from "./tiered-targeting.js";
import type { JsonValue } from "./types.js";

/**
 * Builds the targeting function of a (validated, `$flagd`-rewritten) rule for one flag: interpreted, or compiled
 * through the tiers of tiered-targeting.ts. Throws what json-logic-engine throws for rules it cannot compile; the
 * caller turns that into a PARSE_ERROR value.
 */
export function buildTargeting(
	rule: JsonValue,
	flagKey: string,
	fractional: FractionalVersion = "v2",
	mode: TargetingMode = defaultTargetingMode(),
): TargetingFunction {
	const scheme = (): FractionalScheme =>
		fractional === "v3"
			? createFractionalSchemeV3(flagKey)
			: createFractionalSchemeV2(flagKey);
	if (mode === "interpreted") return interpretTargeting(rule, scheme());
	return tieredTargeting(rule, scheme);
}
