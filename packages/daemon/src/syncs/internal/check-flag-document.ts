/**
 * The sources' sanity check before they emit a snapshot: the text must parse (JSON or YAML) to an object with a
 * `flags` object. Anything else (a truncated write, random bytes, `[]`, `"x"`, an empty file, a deleted file's
 * `{}`) is not a flag document, so the source keeps its last good state instead of wiping the flags. Full schema
 * validation is the store's job; this only guards the "is this a document at all" boundary.
 */
import { parse as parseYaml } from "yaml";
import type { DocumentFormat } from "./document-format.js";

export type DocumentCheck =
	| { readonly ok: true }
	| { readonly ok: false; readonly reason: string };

/** Strips a UTF-8 byte order mark, which JSON.parse rejects but editors on Windows write. */
export function stripBom(text: string): string {
	return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseDocument(text: string, format: DocumentFormat): unknown {
	if (format === "json") return JSON.parse(text);
	// maxAliasCount bounds alias expansion ("billion laughs"); prettyErrors keeps messages one-line friendly.
	return parseYaml(text, { maxAliasCount: 100, prettyErrors: false });
}

export function checkFlagDocument(
	text: string,
	format: DocumentFormat,
): DocumentCheck {
	if (text.trim() === "") return { ok: false, reason: "document is empty" };
	let parsed: unknown;
	try {
		parsed = parseDocument(text, format);
	} catch (error: unknown) {
		// A RangeError here is a document nested deeper than the parser's stack allows: still just bad input.
		const message = error instanceof Error ? error.message : String(error);
		return {
			ok: false,
			reason: `not valid ${format.toUpperCase()}: ${message.split("\n")[0] ?? ""}`,
		};
	}
	if (!isPlainObject(parsed)) {
		const kind = Array.isArray(parsed)
			? "an array"
			: parsed === null
				? "null"
				: `a ${typeof parsed}`;
		return { ok: false, reason: `document is ${kind}, not an object` };
	}
	if (!("flags" in parsed))
		return { ok: false, reason: 'document has no "flags" object' };
	if (!isPlainObject(parsed.flags))
		return { ok: false, reason: '"flags" is not an object' };
	return { ok: true };
}
