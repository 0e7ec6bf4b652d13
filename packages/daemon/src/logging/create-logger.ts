/**
 * The daemon's logger factory: pino underneath (fast, structured), returned as our Logger interface so the rest of
 * the daemon never depends on pino. `json` writes one JSON object per line (level as a label, ISO time, `msg`), for
 * log collectors; `console` writes readable lines (flagd's default `--log-format`).
 */
import { pino } from "pino";
import {
	createConsoleDestination,
	type LogSink,
} from "./console-destination.js";
import type { Logger } from "./logger.js";

export interface LoggerOptions {
	/** @default "console" */
	readonly format?: "console" | "json";
	/** Log debug records too. @default false */
	readonly debug?: boolean;
	/** Where lines go. @default stdout, written synchronously so nothing is lost when the process exits */
	readonly sink?: LogSink;
	/** ANSI colours in console format. @default false */
	readonly color?: boolean;
	/** Fields on every record (e.g. `{ component: "flagd" }`). @default none */
	readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
	const format = options.format ?? "console";
	const sink = options.sink ?? pino.destination({ dest: 1, sync: true });
	const destination =
		format === "json"
			? sink
			: createConsoleDestination({ sink, color: options.color ?? false });
	return pino(
		{
			level: options.debug === true ? "debug" : "info",
			base: options.base ?? null,
			messageKey: "msg",
			timestamp: pino.stdTimeFunctions.isoTime,
			formatters: { level: (label) => ({ level: label }) },
			// Our parts log errors under `error` as well as pino's `err`; both get type, message and stack.
			serializers: {
				err: pino.stdSerializers.err,
				error: pino.stdSerializers.err,
			},
		},
		destination,
	);
}
