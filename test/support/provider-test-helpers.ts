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

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
	condition: () => boolean,
	timeoutMs = 5000,
	what = "condition",
): Promise<void> {
	const started = Date.now();
	while (!condition()) {
		if (Date.now() - started > timeoutMs)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}
