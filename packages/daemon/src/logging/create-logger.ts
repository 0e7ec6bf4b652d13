/**
 * The daemon's logger factory: pino underneath (fast, structured), returned as our Logger interface so the rest of
 * the daemon never depends on pino. `json` writes one JSON object per line (level as a label, ISO time, `msg`), for
 * log collectors; `console` writes readable lines (flagd's default `--log-format`).
 */
import { pino } from "pino";
import { isDaemonError } from "../errors.js";
import {
	createConsoleDestination,
	type LogSink,
} from "./console-destination.js";
import { isoTimeField } from "./iso-time.js";
import type { Logger } from "./logger.js";
import { redactUrisInText } from "./redact-uri.js";

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

const ERROR_FIELDS = ["err", "error"] as const;

/**
 * Without --debug a catalogued error (DaemonError: a user error or an expected failure) is its message only, and is
 * left out when the line's message already says it: one line per problem, no stack trace for a user error. Any other
 * error (a bug) keeps its stack, and with --debug every error keeps type, message, stack and causes.
 */
function briefErrorFields(
	fields: Record<string, unknown>,
	message: string,
): Record<string, unknown> {
	let out = fields;
	for (const name of ERROR_FIELDS) {
		const value = fields[name];
		if (!isDaemonError(value)) continue;
		if (out === fields) out = { ...fields };
		if (message.includes(value.message)) delete out[name];
		else out[name] = value.message;
	}
	return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
	const debug = options.debug === true;
	const format = options.format ?? "console";
	const sink = redactingSink(
		options.sink ?? pino.destination({ dest: 1, sync: true }),
	);
	const destination =
		format === "json"
			? sink
			: createConsoleDestination({ sink, color: options.color ?? false });
	return pino(
		{
			level: debug ? "debug" : "info",
			base: options.base ?? null,
			messageKey: "msg",
			// pino.stdTimeFunctions.isoTime's output without Date#toISOString's time-zone work (iso-time.ts).
			timestamp: isoTimeField,
			formatters: { level: (label) => ({ level: label }) },
			// Our parts log errors under `error` as well as pino's `err`; both get type, message and stack, except a
			// catalogued error without --debug (briefErrorFields).
			serializers: {
				err: pino.stdSerializers.err,
				error: pino.stdSerializers.err,
			},
			hooks: debug
				? {}
				: {
						logMethod(args, method) {
							const [fields, message, ...rest] = args as unknown[];
							if (
								typeof fields === "object" &&
								fields !== null &&
								typeof message === "string"
							) {
								method.apply(this, [
									briefErrorFields(fields as Record<string, unknown>, message),
									message,
									...rest,
								] as Parameters<typeof method>);
								return;
							}
							method.apply(this, args);
						},
					},
		},
		destination,
	);
}

/**
 * Every line passes through URI redaction before it is written: source URIs appear in many messages (errors of
 * every sync source quote theirs), and a token in a URI must not reach log storage whichever part logs it.
 */
function redactingSink(sink: LogSink): LogSink {
	return { write: (chunk: string) => sink.write(redactUrisInText(chunk)) };
}
