/**
 * One payload on its way into the store: parsed and validated (parseFlagDocument), each flag compiled on its own
 * (an invalid or uncompilable flag is left out and named once in the log), and compared with the source's previous
 * flags. The store (flag-store.ts) decides what to keep; these steps hold no state.
 */
import {
	type FlagDocument,
	type ParseResult,
	parseFlagDocument,
	type ValidationIssue,
} from "@flagd-ts/evaluator";
import type { Logger } from "../logging/logger.js";
import { redactUri } from "../logging/redact-uri.js";
import {
	createStoredFlag,
	flagIdentity,
	type StoredFlag,
	sameObservableFlag,
} from "./stored-flag.js";

/** One snapshot from a source (structurally a SyncPayload). */
export interface StoreUpdate {
	readonly source: string;
	readonly content: string | unknown;
	readonly format: "json" | "yaml";
}

/** A flag left out of a payload, and why. */
export interface InvalidFlag {
	readonly key: string;
	readonly reason: string;
}

/** How many invalid flags one log line names; the rest are counted. */
const MAX_NAMED_FLAGS = 10;

/** Parses and validates one payload; schema warnings are logged here, problems come back as a message. */
export function parsePayload(
	update: StoreUpdate,
	strict: boolean,
	logger: Logger,
):
	| {
			ok: true;
			document: FlagDocument;
			invalidFlags: readonly InvalidFlag[];
	  }
	| { ok: false; message: string } {
	let result: ParseResult;
	try {
		result = parseFlagDocument(update.content, {
			format: update.format,
			strict,
			skipInvalidFlags: true,
		});
	} catch (e: unknown) {
		return { ok: false, message: `cannot parse payload: ${describe(e)}` };
	}
	if (result.ok) {
		if (result.warnings.length > 0)
			logWarnings(logger, update.source, result.warnings);
		const invalidFlags = (result.invalidFlags ?? []).map((issue) => ({
			key: issue.flagKey ?? "",
			reason: `${issue.path}: ${issue.message}`,
		}));
		return { ok: true, document: result.document, invalidFlags };
	}
	const first = result.errors
		.slice(0, 3)
		.map((issue) => `${issue.path || "/"}: ${issue.message}`)
		.join("; ");
	const more =
		result.errors.length > 3 ? ` (+${result.errors.length - 3} more)` : "";
	return { ok: false, message: `invalid flag document: ${first}${more}` };
}

/** flagd only warns about schema findings (unless strict); say so once per payload, naming the source. */
function logWarnings(
	logger: Logger,
	source: string,
	warnings: readonly ValidationIssue[],
): void {
	const first = warnings
		.slice(0, 3)
		.map((issue) => `${issue.path || "/"}: ${issue.message}`)
		.join("; ");
	const more = warnings.length > 3 ? ` (+${warnings.length - 3} more)` : "";
	const label = redactUri(source);
	logger.warn(
		{ source: label, warnings: warnings.length },
		`source ${label}: flag document has validation warnings: ${first}${more}`,
	);
}

/** One line per payload naming the flags left out (bounded), so a typo is found without --debug. */
export function logInvalidFlags(
	logger: Logger,
	source: string,
	invalid: readonly InvalidFlag[],
): void {
	const named = invalid
		.slice(0, MAX_NAMED_FLAGS)
		.map((flag) => `"${flag.key}" (${flag.reason})`)
		.join("; ");
	const more =
		invalid.length > MAX_NAMED_FLAGS
			? ` (+${invalid.length - MAX_NAMED_FLAGS} more)`
			: "";
	logger.warn(
		{ source, invalidFlags: invalid.length },
		`source ${source}: ${invalid.length === 1 ? "1 invalid flag is" : `${invalid.length} invalid flags are`} not served: ${named}${more}`,
	);
}

/** Compiles each flag on its own: one that fails to compile is left out like any other invalid flag. */
export function compileFlags(
	document: FlagDocument,
	source: string,
	priority: number,
): { flags: Map<string, StoredFlag>; invalid: InvalidFlag[] } {
	const flags = new Map<string, StoredFlag>();
	const invalid: InvalidFlag[] = [];
	for (const definition of document.flags) {
		try {
			const flag = createStoredFlag(definition, source, priority);
			flags.set(flagIdentity(flag.flagSetId, flag.key), flag);
		} catch (e: unknown) {
			invalid.push({
				key: definition.key,
				reason: `cannot compile: ${describe(e)}`,
			});
		}
	}
	return { flags, invalid };
}

/** Flags added, removed or observably different (sameObservableFlag) between two snapshots of one source. */
export function changedFlagKeys(
	before: ReadonlyMap<string, StoredFlag>,
	after: ReadonlyMap<string, StoredFlag>,
): string[] {
	const name = (flag: StoredFlag): string =>
		flag.flagSetId === undefined ? flag.key : `${flag.flagSetId}/${flag.key}`;
	const changed: string[] = [];
	for (const [identity, flag] of after) {
		const previous = before.get(identity);
		if (previous === undefined || !sameObservableFlag(previous, flag))
			changed.push(name(flag));
	}
	for (const [identity, flag] of before) {
		if (!after.has(identity)) changed.push(name(flag));
	}
	return changed;
}

export function describe(e: unknown): string {
	return e instanceof Error ? e.message : String(e);
}
