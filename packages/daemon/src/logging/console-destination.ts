/**
 * A pino destination that turns pino's JSON lines into readable console lines (pino-pretty is not a dependency):
 *
 *   2026-11-21T08:30:00.000Z  INFO   flagd listening  evaluation=http://localhost:8013 sources=2
 *
 * Fields follow the message as key=value (strings with spaces and objects as JSON); an error's stack goes on the
 * following lines, indented, so it stays readable and greppable.
 */
import { isoTime } from "./iso-time.js";

export interface LogSink {
	write(chunk: string): unknown;
}

export interface ConsoleDestinationOptions {
	/** Where formatted lines go. */
	readonly sink: LogSink;
	/** ANSI colours for the level. @default false */
	readonly color?: boolean;
}

const COLORS: Readonly<Record<string, string>> = {
	trace: "\u001b[90m",
	debug: "\u001b[36m",
	info: "\u001b[32m",
	warn: "\u001b[33m",
	error: "\u001b[31m",
	fatal: "\u001b[35m",
};
const RESET = "\u001b[0m";

function renderValue(value: unknown): string {
	if (typeof value === "string") {
		return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
	}
	if (value === undefined) return "undefined";
	return JSON.stringify(value) ?? String(value);
}

function isSerializedError(
	value: unknown,
): value is { message?: unknown; stack?: unknown } {
	return (
		value !== null &&
		typeof value === "object" &&
		("stack" in value || "message" in value) &&
		"type" in value
	);
}

/** Formats one pino JSON record; returns the input unchanged if it is not JSON (never loses a line). */
export function formatConsoleLine(line: string, color = false): string {
	let record: Record<string, unknown>;
	try {
		const parsed: unknown = JSON.parse(line);
		if (parsed === null || typeof parsed !== "object") return line;
		record = parsed as Record<string, unknown>;
	} catch {
		// Not one of pino's records (should not happen): print it as it came.
		return line.endsWith("\n") ? line : `${line}\n`;
	}
	const { time, level, msg, ...fields } = record;
	const label = String(level ?? "info");
	const padded = label.toUpperCase().padEnd(5);
	const levelText = color ? `${COLORS[label] ?? ""}${padded}${RESET}` : padded;
	const parts = [
		String(time ?? isoTime(Date.now())),
		levelText,
		String(msg ?? ""),
	];
	const stacks: string[] = [];
	for (const [key, value] of Object.entries(fields)) {
		if (isSerializedError(value)) {
			parts.push(`${key}=${renderValue(String(value.message ?? ""))}`);
			if (typeof value.stack === "string") stacks.push(value.stack);
		} else {
			parts.push(`${key}=${renderValue(value)}`);
		}
	}
	const indented = stacks
		.map((s) => `\n    ${s.split("\n").join("\n    ")}`)
		.join("");
	return `${parts.join("  ")}${indented}\n`;
}

/** A pino-compatible stream object (pino only needs `write`). */
export function createConsoleDestination(
	options: ConsoleDestinationOptions,
): LogSink {
	const color = options.color ?? false;
	return {
		write(chunk: string): void {
			for (const line of chunk.split("\n")) {
				if (line.trim() !== "")
					options.sink.write(formatConsoleLine(line, color));
			}
		},
	};
}
