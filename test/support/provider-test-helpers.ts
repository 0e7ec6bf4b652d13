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

export { waitFor } from "./wait-for.js";
