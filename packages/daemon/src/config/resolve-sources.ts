/**
 * Builds the ordered source list: `--uri` entries first, then `--sources` entries (flagd's order; later sources win
 * on duplicate flag keys). URI and JSON parsing belong to syncs/; this file only gathers their problems with the
 * option that caused them.
 */
import { isDaemonError } from "../errors.js";
import { parseSourceUri } from "../syncs/parse-source-uri.js";
import { parseSourcesResult } from "../syncs/parse-sources.js";
import type { SourceConfig } from "../syncs/source-config.js";
import { parseList } from "./option-parsers.js";
import type { OptionReader } from "./option-reader.js";

function reason(e: unknown): string {
	if (isDaemonError(e) || e instanceof Error) return e.message;
	return String(e);
}

/** A long `--sources` JSON value would drown the problem; show its start. */
function short(label: string): string {
	return label.length > 70 ? `${label.slice(0, 67)}...` : label;
}

function fromSourcesOption(reader: OptionReader): SourceConfig[] {
	const items = reader.find("sources")?.items;
	const item = items?.[items.length - 1];
	if (item === undefined) return [];
	if (typeof item.value === "string" && item.value.trim() === "") return [];
	const { sources, problems, warnings } = parseSourcesResult(item.value);
	for (const problem of problems) {
		reader.report(`${short(item.label)}: --${problem}`);
	}
	for (const warning of warnings) reader.warn(`--${warning}`);
	return sources;
}

export function resolveSources(reader: OptionReader): SourceConfig[] {
	const sources: SourceConfig[] = [];
	for (const { value: uri, item } of reader.repeated("uri", parseList) ?? []) {
		try {
			sources.push(parseSourceUri(uri));
		} catch (e: unknown) {
			// The label already shows the value (`--uri fil:x.json`, `FLAGD_URI=…`): say the URI once.
			const why = reason(e).replace(`invalid sync uri "${uri}": `, "");
			const which = item.label.includes(uri) ? "" : ` "${uri}"`;
			reader.report(`${item.label}:${which} invalid sync uri: ${why}`);
		}
	}
	sources.push(...fromSourcesOption(reader));
	// The URI is the source id (merge priority, `source=` selector); two sources with one id cannot be told apart.
	const seen = new Set<string>();
	for (const source of sources) {
		if (seen.has(source.uri)) {
			reader.report(
				`source "${source.uri}" is configured twice (--uri/--sources); each source needs a distinct URI`,
			);
		}
		seen.add(source.uri);
	}
	return sources;
}
