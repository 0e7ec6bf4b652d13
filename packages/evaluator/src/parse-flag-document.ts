import { parse as parseYaml } from "yaml";
import { createRefExpansionBudget } from "./evaluator-refs.js";
import { readFlagMetadata } from "./flag-metadata.js";
import { isJsonObject, jsonDepth } from "./json-guards.js";
import { readFlagDefinition } from "./read-flag-definition.js";
import { pointerSegment } from "./targeting-operators.js";
import type {
	FlagDefinition,
	FlagDocument,
	JsonValue,
	ParseResult,
	ValidationIssue,
} from "./types.js";
import { ValidationIssues } from "./validation-issues.js";

/** Options of {@link parseFlagDocument}. */
export interface ParseFlagDocumentOptions {
	/** Text format. @default detected: text starting with `{` or `[` is JSON, anything else YAML */
	readonly format?: "json" | "yaml";
	/** Reject the document on any schema warning (flagd only warns; flagd#1487 asks for this mode). @default false */
	readonly strict?: boolean;
	/**
	 * Leave out a flag that cannot be used (invalid state or variants, a `defaultVariant` naming no variant) and keep
	 * the others, reporting its errors in `invalidFlags`, instead of rejecting the whole document. Problems of the
	 * document itself still reject it, and so does any finding under `strict`. @default false
	 */
	readonly skipInvalidFlags?: boolean;
}

/** Deepest nesting accepted; deeper documents are rejected before anything walks them recursively. */
export const MAX_DOCUMENT_DEPTH = 128;

const TOP_LEVEL_PROPERTIES: ReadonlySet<string> = new Set([
	"flags",
	"metadata",
	"$evaluators",
	"$schema",
]);

type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function decode(input: unknown, format: "json" | "yaml" | undefined): Decoded {
	if (input instanceof Uint8Array) {
		// Bytes as read from a file or an HTTP body: decode as UTF-8, rejecting invalid sequences.
		try {
			return decode(
				new TextDecoder("utf-8", { fatal: true }).decode(input),
				format,
			);
		} catch (error: unknown) {
			return { ok: false, message: `not valid UTF-8: ${messageOf(error)}` };
		}
	}
	if (typeof input !== "string") return { ok: true, value: input };
	const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
	const first = text.trimStart()[0];
	const useJson =
		format === "json" ||
		(format === undefined && (first === "{" || first === "["));
	try {
		if (useJson) return { ok: true, value: JSON.parse(text) };
		return {
			ok: true,
			value: parseYaml(text, { maxAliasCount: 100, prettyErrors: false }),
		};
	} catch (error: unknown) {
		return {
			ok: false,
			message: `not valid ${useJson ? "JSON" : "YAML"}: ${messageOf(error)}`,
		};
	}
}

/** Reads `$evaluators` into a map (null-safe for any names). */
function readEvaluators(
	raw: unknown,
	issues: ValidationIssues,
): Map<string, JsonValue> {
	const evaluators = new Map<string, JsonValue>();
	if (raw === undefined || raw === null) return evaluators;
	if (!isJsonObject(raw)) {
		issues.warn(
			"INVALID_TARGETING",
			"/$evaluators",
			"$evaluators must be an object of named JsonLogic rules; it is ignored",
		);
		return evaluators;
	}
	for (const [name, rule] of Object.entries(raw)) evaluators.set(name, rule);
	return evaluators;
}

/** The flags of the document with their keys and JSON pointers, from the object or the array form. */
function listFlags(
	flags: unknown,
	issues: ValidationIssues,
): Array<{ key: string; raw: unknown; path: string }> | undefined {
	if (isJsonObject(flags)) {
		return Object.keys(flags).map((key) => ({
			key,
			raw: flags[key],
			path: `/flags/${pointerSegment(key)}`,
		}));
	}
	if (!Array.isArray(flags)) {
		issues.error(
			"INVALID_FLAGS",
			"/flags",
			flags === undefined
				? "the document has no flags"
				: "flags must be an object or an array",
		);
		return undefined;
	}
	const listed: Array<{ key: string; raw: unknown; path: string }> = [];
	flags.forEach((raw: unknown, index: number) => {
		const key = isJsonObject(raw) ? raw.key : undefined;
		if (typeof key !== "string" || key === "") {
			issues.error(
				"INVALID_FLAG",
				`/flags/${index}/key`,
				"a flag in the array form needs a non-empty string key",
			);
			return;
		}
		listed.push({ key, raw, path: `/flags/${index}` });
	});
	return listed;
}

function parseDocument(
	input: unknown,
	options: ParseFlagDocumentOptions,
	issues: ValidationIssues,
): FlagDocument | undefined {
	const decoded = decode(input, options.format);
	if (!decoded.ok) {
		issues.error("INVALID_DOCUMENT", "", decoded.message);
		return undefined;
	}
	const doc = decoded.value;
	if (!isJsonObject(doc)) {
		issues.error(
			"INVALID_DOCUMENT",
			"",
			"a flag document must be an object with a flags property",
		);
		return undefined;
	}
	if (jsonDepth(doc, MAX_DOCUMENT_DEPTH) > MAX_DOCUMENT_DEPTH) {
		issues.error(
			"INVALID_DOCUMENT",
			"",
			`the document is nested deeper than ${MAX_DOCUMENT_DEPTH} levels`,
		);
		return undefined;
	}
	for (const property of Object.keys(doc)) {
		if (!TOP_LEVEL_PROPERTIES.has(property)) {
			issues.warn(
				"UNKNOWN_PROPERTY",
				`/${pointerSegment(property)}`,
				`unknown top-level property "${property}"`,
			);
		}
	}
	const setMetadata = readFlagMetadata(doc.metadata, "/metadata", issues);
	const evaluators = readEvaluators(doc.$evaluators, issues);
	const listed = listFlags(doc.flags, issues);
	if (listed === undefined) return undefined;
	const byIdentity = new Map<string, FlagDefinition>();
	const refBudget = createRefExpansionBudget();
	for (const { key, raw, path } of listed) {
		const flag = readFlagDefinition(key, raw, path, {
			issues,
			evaluators,
			setMetadata,
			refBudget,
		});
		if (flag === undefined) continue;
		const identity = `${flag.flagSetId ?? ""}\u0000${key}`;
		if (byIdentity.has(identity)) {
			issues.warn(
				"DUPLICATE_FLAG_KEY",
				path,
				`flag "${key}" appears more than once in flag set ${JSON.stringify(flag.flagSetId ?? null)}; the last one wins`,
				key,
			);
			byIdentity.delete(identity);
		}
		byIdentity.set(identity, flag);
	}
	return { flags: [...byIdentity.values()], metadata: setMetadata };
}

function asError(issue: ValidationIssue): ValidationIssue {
	return { ...issue, severity: "error" };
}

/**
 * Parses and validates a flagd flag definition document: JSON or YAML text (a string or UTF-8 bytes), or an
 * already-parsed value. Supports
 * `flags` as object or array, set `metadata` (merged under flag metadata, flag wins), `flagSetId` per flag, and
 * `$evaluators` with `$ref` inlining. Findings carry a stable code, the flag key and a JSON pointer. Schema
 * deviations are warnings (flagd's behaviour) unless `strict`; structural problems (unparsable text, no flags,
 * invalid state or variants, a `defaultVariant` missing from `variants`) always reject the document, so a caller
 * can keep its previous flags. Never throws, whatever the input.
 */
export function parseFlagDocument(
	input: unknown,
	options: ParseFlagDocumentOptions = {},
): ParseResult {
	const issues = new ValidationIssues();
	let document: FlagDocument | undefined;
	try {
		document = parseDocument(input, options, issues);
	} catch (error: unknown) {
		// A safety net for inputs nobody anticipated (e.g. a stack overflow inside the YAML library): report, never throw.
		issues.error(
			"INVALID_DOCUMENT",
			"",
			`the document could not be processed: ${messageOf(error)}`,
		);
		document = undefined;
	}
	if (options.strict === true && issues.warnings.length > 0) {
		return {
			ok: false,
			errors: [...issues.errors, ...issues.warnings.map(asError)],
			warnings: [],
		};
	}
	if (
		document !== undefined &&
		options.skipInvalidFlags === true &&
		options.strict !== true &&
		issues.errors.every((issue) => issue.flagKey !== undefined)
	) {
		return {
			ok: true,
			document,
			warnings: issues.warnings,
			invalidFlags: issues.errors,
		};
	}
	if (document === undefined || issues.errors.length > 0) {
		return { ok: false, errors: issues.errors, warnings: issues.warnings };
	}
	return { ok: true, document, warnings: issues.warnings };
}
