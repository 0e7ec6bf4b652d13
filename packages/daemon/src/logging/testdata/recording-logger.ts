/**
 * A Logger for tests that records every entry (child fields merged in), so a test can assert on what a part logged.
 * It lives in testdata/ so the package build leaves it out.
 */
import type { Logger } from "../logger.js";

export interface LogEntry {
	readonly level: "debug" | "info" | "warn" | "error";
	readonly fields: Record<string, unknown>;
	readonly message: string;
}

/** See the file comment; `entries` receives every entry. */
export function recordingLogger(
	entries: LogEntry[] = [],
	base: Record<string, unknown> = {},
): Logger & { readonly entries: LogEntry[] } {
	const log =
		(level: LogEntry["level"]) =>
		(fields: Record<string, unknown>, message: string): void => {
			entries.push({ level, fields: { ...base, ...fields }, message });
		};
	return {
		entries,
		debug: log("debug"),
		info: log("info"),
		warn: log("warn"),
		error: log("error"),
		child: (fields) => recordingLogger(entries, { ...base, ...fields }),
	};
}
