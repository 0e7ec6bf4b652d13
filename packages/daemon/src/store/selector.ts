/**
 * Selectors choose which flags an API call sees (flagd's decouple-flag-source-and-set decision):
 * `<source>` or `source=<source>` selects one source's flags, `flagSetId=<id>` one flag set, `flagSetId=` the flags
 * without a set, and an empty selector everything. Parsed once per distinct string (see SelectorCache).
 */

import type { FlagMetadata } from "@flagd-ts/evaluator";
import { DaemonError } from "../errors.js";

/** A parsed selector. `key` is its normal form and identifies the store view it selects. */
export type Selector =
	| {
			readonly kind: "all";
			readonly key: "";
			readonly reflection: FlagMetadata;
	  }
	| {
			readonly kind: "source";
			readonly key: string;
			readonly source: string;
			readonly reflection: FlagMetadata;
	  }
	| {
			readonly kind: "flagSet";
			readonly key: string;
			/** `undefined` selects the flags without a flag set (`flagSetId=`). */
			readonly flagSetId: string | undefined;
			readonly reflection: FlagMetadata;
	  };

/** The selector that selects every flag (no `Flagd-Selector` header). */
export const SELECT_ALL: Selector = Object.freeze({
	kind: "all",
	key: "",
	reflection: Object.freeze({}),
}) as Selector;

/**
 * Parses a selector expression. Only one `key=value` pair is accepted (flagd#1708 is still open); the keys are
 * `source` and `flagSetId`, and a bare value means `source=<value>` for backward compatibility.
 * Throws a DaemonError `SELECTOR_INVALID` whose message says what is wrong and what is accepted.
 */
export function parseSelector(input: string | undefined | null): Selector {
	const text = (input ?? "").trim();
	if (text === "") return SELECT_ALL;
	const eq = text.indexOf("=");
	if (eq < 0) {
		rejectCommas(text, input);
		return sourceSelector(text);
	}
	const name = text.slice(0, eq).trim();
	const value = text.slice(eq + 1).trim();
	rejectCommas(value, input);
	if (name === "source") {
		if (value === "") {
			throw invalid(input, "`source=` needs a source URI");
		}
		return sourceSelector(value);
	}
	if (name === "flagSetId") {
		const flagSetId = value === "" ? undefined : value;
		return Object.freeze({
			kind: "flagSet",
			key: `flagSetId=${value}`,
			flagSetId,
			reflection: Object.freeze({ flagSetId: value }),
		});
	}
	throw invalid(
		input,
		`unknown selector key "${name}" (expected "source" or "flagSetId")`,
	);
}

function sourceSelector(source: string): Selector {
	return Object.freeze({
		kind: "source",
		key: `source=${source}`,
		source,
		reflection: Object.freeze({ source }),
	});
}

function rejectCommas(value: string, input: string | undefined | null): void {
	if (value.includes(",")) {
		throw invalid(input, "only one key=value pair is supported");
	}
}

function invalid(input: string | undefined | null, why: string): DaemonError {
	return new DaemonError(
		"SELECTOR_INVALID",
		`invalid selector "${input ?? ""}": ${why}; use "source=<uri>", "flagSetId=<id>", "flagSetId=" or "<uri>"`,
	);
}
