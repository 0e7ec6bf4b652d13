/** Small helpers shared by the provider integration tests. */
import type { Logger } from "@openfeature/server-sdk";

/** A logger that records instead of printing, so tests can assert log levels. */
export interface RecordingLogger extends Logger {
	readonly lines: Array<{
		level: "error" | "warn" | "info" | "debug";
		text: string;
	}>;
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
	const lines: RecordingLogger["lines"] = [];
	const record =
		(level: "error" | "warn" | "info" | "debug") =>
		(...args: unknown[]): void => {
			lines.push({ level, text: args.map(String).join(" ") });
		};
	return {
		lines,
		error: record("error"),
		warn: record("warn"),
		info: record("info"),
		debug: record("debug"),
	};
}

/** A logger that drops everything (for tests that do not look at logs). */
export const quietLogger: Logger = {
	error: () => {},
	warn: () => {},
	info: () => {},
	debug: () => {},
};

/**
 * deadlineMs for a provider whose test is not about deadlines: initialisation waits for the first connection or
 * sync within deadlineMs, and flagd's 500 ms default is too tight for a busy CI machine's first connection.
 */
export const INIT_DEADLINE_MS = 5_000;

export { waitFor } from "./wait-for.js";
