/**
 * CollectorTlsFiles with real files rewritten on disk: start-up read, re-read on reload() and on the interval,
 * a failed re-read keeping the last good material.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import type { Logger } from "../logging/logger.js";
import { CollectorTlsFiles } from "./collector-tls-files.js";

interface Line {
	readonly level: string;
	readonly message: string;
}

function recordingLogger(lines: Line[]): Logger {
	const logger: Logger = {
		debug: (_f, message) => lines.push({ level: "debug", message }),
		info: (_f, message) => lines.push({ level: "info", message }),
		warn: (_f, message) => lines.push({ level: "warn", message }),
		error: (_f, message) => lines.push({ level: "error", message }),
		child: () => logger,
	};
	return logger;
}

const dirs: string[] = [];
let files: CollectorTlsFiles | undefined;

afterEach(() => {
	files?.stop();
	files = undefined;
	for (const dir of dirs.splice(0))
		rmSync(dir, { recursive: true, force: true });
});

function tempFiles(): { ca: string; cert: string; key: string } {
	const dir = mkdtempSync(path.join(tmpdir(), "otel-tls-"));
	dirs.push(dir);
	const paths = {
		ca: path.join(dir, "ca.pem"),
		cert: path.join(dir, "cert.pem"),
		key: path.join(dir, "key.pem"),
	};
	writeFileSync(paths.ca, "ca-1");
	writeFileSync(paths.cert, "cert-1");
	writeFileSync(paths.key, "key-1");
	return paths;
}

describe("CollectorTlsFiles", () => {
	it("reads the files at start and again after they are rewritten", () => {
		const paths = tempFiles();
		const lines: Line[] = [];
		files = new CollectorTlsFiles({
			caPath: paths.ca,
			certPath: paths.cert,
			keyPath: paths.key,
			reloadIntervalMs: 0,
			logger: recordingLogger(lines),
		});
		const first = files.current;
		expect(first.ca?.toString()).toBe("ca-1");
		expect(files.reload()).toBe(false);
		expect(files.current).toBe(first);
		writeFileSync(paths.cert, "cert-2");
		writeFileSync(paths.key, "key-2");
		expect(files.reload()).toBe(true);
		expect(files.current).not.toBe(first);
		expect(files.current.cert?.toString()).toBe("cert-2");
		expect(files.current.key?.toString()).toBe("key-2");
		expect(files.current.ca?.toString()).toBe("ca-1");
		expect(lines.map((l) => l.message)).toEqual([
			"OTLP collector TLS files reloaded",
		]);
	});

	it("keeps the last good material when a file cannot be read", () => {
		const paths = tempFiles();
		const lines: Line[] = [];
		files = new CollectorTlsFiles({
			caPath: paths.ca,
			certPath: undefined,
			keyPath: undefined,
			reloadIntervalMs: 0,
			logger: recordingLogger(lines),
		});
		rmSync(paths.ca);
		expect(files.reload()).toBe(false);
		expect(files.current.ca?.toString()).toBe("ca-1");
		expect(lines).toHaveLength(1);
		expect(lines[0]?.level).toBe("warn");
		expect(lines[0]?.message).toContain("--otel-ca-path: cannot read");
		expect(lines[0]?.message).toContain("keeping the collector TLS material");
	});

	it("fails at start with CONFIG_INVALID naming the option", () => {
		expect(
			() =>
				new CollectorTlsFiles({
					caPath: undefined,
					certPath: "/nonexistent/cert.pem",
					keyPath: undefined,
					reloadIntervalMs: 0,
					logger: recordingLogger([]),
				}),
		).toThrow(
			expect.objectContaining({
				code: "CONFIG_INVALID",
				message: expect.stringContaining("--otel-cert-path"),
			}),
		);
	});

	it("re-reads on its interval", async () => {
		const paths = tempFiles();
		const lines: Line[] = [];
		files = new CollectorTlsFiles({
			caPath: paths.ca,
			certPath: undefined,
			keyPath: undefined,
			reloadIntervalMs: 20,
			logger: recordingLogger(lines),
		});
		files.start();
		writeFileSync(paths.ca, "ca-2");
		const deadline = Date.now() + 10_000;
		while (files.current.ca?.toString() !== "ca-2" && Date.now() < deadline)
			await new Promise((resolve) => setTimeout(resolve, 10));
		expect(files.current.ca?.toString()).toBe("ca-2");
	});
});
