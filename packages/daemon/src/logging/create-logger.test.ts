import { describe, expect, it } from "@jest/globals";
import { DaemonError } from "../errors.js";
import { formatConsoleLine } from "./console-destination.js";
import { createLogger } from "./create-logger.js";

function capture(): {
	sink: { write(chunk: string): void };
	lines: () => string[];
} {
	const chunks: string[] = [];
	return {
		sink: { write: (chunk: string) => void chunks.push(chunk) },
		lines: () =>
			chunks
				.join("")
				.split("\n")
				.filter((l) => l !== ""),
	};
}

describe("createLogger json", () => {
	it("writes one JSON object per record with level label, ISO time, msg and fields", () => {
		const out = capture();
		const logger = createLogger({ format: "json", sink: out.sink });
		logger.info({ port: 8013, source: "file:a.json" }, "listening");
		const [line] = out.lines();
		const record = JSON.parse(line as string) as Record<string, unknown>;
		expect(record).toEqual({
			level: "info",
			time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
			msg: "listening",
			port: 8013,
			source: "file:a.json",
		});
	});

	it("drops debug records unless debug is on", () => {
		const quiet = capture();
		createLogger({ format: "json", sink: quiet.sink }).debug({}, "hidden");
		expect(quiet.lines()).toEqual([]);
		const loud = capture();
		createLogger({ format: "json", debug: true, sink: loud.sink }).debug(
			{},
			"shown",
		);
		expect(JSON.parse(loud.lines()[0] as string)).toMatchObject({
			level: "debug",
			msg: "shown",
		});
	});

	it("without --debug an error field is its message only, left out when the line already says it", () => {
		const out = capture();
		const logger = createLogger({ format: "json", sink: out.sink }).child({
			component: "sync",
		});
		const cause = new Error("listen EADDRINUSE");
		const error = new DaemonError(
			"LISTEN_FAILED",
			"cannot bind: listen EADDRINUSE",
			{ cause },
		);
		logger.error({ err: error }, "failed");
		logger.error({ err: error }, `failed: ${error.message}`);
		const [first, second] = out.lines().map((l) => JSON.parse(l));
		expect(first).toMatchObject({ msg: "failed", err: error.message });
		expect(second).toEqual({
			level: "error",
			time: expect.any(String),
			component: "sync",
			msg: "failed: cannot bind: listen EADDRINUSE",
		});
	});

	it("with --debug serialises errors under error and err with message and stack, and child fields stick", () => {
		const out = capture();
		const logger = createLogger({
			format: "json",
			debug: true,
			sink: out.sink,
		}).child({
			component: "sync",
		});
		logger.error({ error: new Error("boom") }, "failed");
		const record = JSON.parse(out.lines()[0] as string) as {
			error: { message: string; stack: string };
		};
		expect(record).toMatchObject({
			level: "error",
			component: "sync",
			msg: "failed",
		});
		expect(record.error.message).toBe("boom");
		expect(record.error.stack).toContain("Error: boom");
	});
});

describe("createLogger console", () => {
	it("writes readable lines: time, level, message, then key=value fields", () => {
		const out = capture();
		const logger = createLogger({ format: "console", sink: out.sink });
		logger.warn(
			{ uri: "file:a b.json", count: 2, nested: { a: 1 } },
			"source slow",
		);
		expect(out.lines()).toEqual([
			expect.stringMatching(
				/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}WARN {3}source slow {2}uri="file:a b\.json" {2}count=2 {2}nested=\{"a":1\}$/,
			),
		]);
	});

	it("prints a catalogued error's message inline, and no stack without --debug", () => {
		const out = capture();
		createLogger({ sink: out.sink }).error(
			{ error: new DaemonError("CONFIG_INVALID", "boom") },
			"failed",
		);
		expect(out.lines()).toEqual([
			expect.stringMatching(/ERROR {2}failed {2}error=boom$/),
		]);
	});

	it("prints any other error's message inline and its stack indented below (a bug keeps its stack)", () => {
		const out = capture();
		createLogger({ sink: out.sink, debug: true }).error(
			{ error: new Error("boom") },
			"failed",
		);
		const [first, second] = out.lines();
		expect(first).toMatch(/ERROR {2}failed {2}error=boom$/);
		expect(second).toBe("    Error: boom");
	});

	it("colours the level only when asked", () => {
		const line = JSON.stringify({ level: "info", time: "t", msg: "m" });
		expect(formatConsoleLine(line, true)).toBe(
			"t  \u001b[32mINFO \u001b[0m  m\n",
		);
		expect(formatConsoleLine(line)).toBe("t  INFO   m\n");
	});

	it("passes a non-JSON line through unchanged rather than losing it", () => {
		expect(formatConsoleLine("plain text")).toBe("plain text\n");
	});
});

describe("createLogger redaction", () => {
	it.each(["json", "console"] as const)(
		"redacts credentials of every URI in %s lines, fields and errors included",
		(format) => {
			const out = capture();
			const logger = createLogger({ format, sink: out.sink });
			logger.warn(
				{
					source: "https://flags.example/f.json?token=SECRET1",
					err: new Error("GET https://user:SECRET2@flags.example/ failed"),
				},
				'http source "https://flags.example/f.json?token=SECRET3": HTTP 500',
			);
			const text = out.lines().join("\n");
			expect(text).not.toMatch(/SECRET/);
			expect(text).toContain("token=[redacted]");
			expect(text).toContain("https://[redacted]@flags.example/");
		},
	);
});
