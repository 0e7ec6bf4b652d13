// `flagd start` run in-process through `main`, with the real daemon on 127.0.0.1 port 0, captured output and an
// EventEmitter standing in for `process` as the signal source (so a test can send two signals in one tick and
// check that the second forces exit without the test runner itself exiting: forceExit is recorded, not executed).
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loopbackDaemonArgs } from "../../../../test/support/daemon-argv.js";
import type { CliIo } from "./cli-io.js";
import { main } from "./main.js";

let workDir: string;
let flagsPath: string;

beforeAll(() => {
	workDir = mkdtempSync(join(tmpdir(), "flagd-run-start-"));
	flagsPath = join(workDir, "flags.json");
	writeFileSync(
		flagsPath,
		JSON.stringify({
			flags: {
				f: { state: "ENABLED", variants: { a: 1 }, defaultVariant: "a" },
			},
		}),
	);
});

afterAll(() => {
	rmSync(workDir, { recursive: true, force: true });
});

interface Harness {
	readonly io: CliIo;
	readonly events: EventEmitter;
	readonly forced: number[];
	records(): Array<Record<string, unknown>>;
	stderr(): string;
	waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function harness(): Harness {
	let out = "";
	let err = "";
	const events = new EventEmitter();
	const forced: number[] = [];
	const records = () =>
		out
			.split("\n")
			.filter((l) => l !== "")
			.map((l) => JSON.parse(l) as Record<string, unknown>);
	return {
		events,
		forced,
		io: {
			stdout: {
				write: (s: string) => {
					out += s;
				},
			},
			stderr: {
				write: (s: string) => {
					err += s;
				},
			},
			events,
			forceExit: (code) => void forced.push(code),
		},
		records,
		stderr: () => err,
		async waitFor(msg, timeoutMs = 10_000) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const found = records().find((r) => r.msg === msg);
				if (found !== undefined) return found;
				if (Date.now() > deadline)
					throw new Error(`no "${msg}" record within ${timeoutMs} ms: ${out}`);
				await new Promise((r) => setTimeout(r, 20));
			}
		},
	};
}

const startArgs = () => [
	"start",
	"-z",
	"json",
	...loopbackDaemonArgs(),
	"-f",
	`file:${flagsPath}`,
];

describe("flagd start in-process", () => {
	it("forces exit 1 on a second signal during shutdown, and still finishes the close", async () => {
		const h = harness();
		const exit = main(startArgs(), {}, h.io);
		await h.waitFor("flagd started");
		h.events.emit("SIGTERM");
		h.events.emit("SIGINT");
		expect(h.forced).toEqual([1]);
		await expect(exit).resolves.toBe(0);
		expect(h.events.listenerCount("SIGTERM")).toBe(0);
		expect(h.events.listenerCount("SIGINT")).toBe(0);
	});

	it("honours a signal that arrives while the daemon is starting", async () => {
		const h = harness();
		const exit = main(startArgs(), {}, h.io);
		// main runs synchronously up to startDaemon's first await, so the listeners are already there.
		h.events.emit("SIGTERM");
		await expect(exit).resolves.toBe(0);
		const messages = h.records().map((r) => r.msg);
		expect(messages.indexOf("flagd shutting down")).toBeLessThan(
			messages.indexOf("flagd exiting"),
		);
		expect(h.forced).toEqual([]);
	});

	it("logs an unhandled rejection and keeps serving", async () => {
		const h = harness();
		const exit = main(startArgs(), {}, h.io);
		const started = await h.waitFor("flagd started");
		h.events.emit("unhandledRejection", new Error("stray"));
		const logged = await h.waitFor(
			"unhandled promise rejection (daemon keeps running)",
		);
		expect(logged).toMatchObject({
			level: "error",
			error: { message: "stray" },
		});
		expect(
			(await fetch(`${started.management as string}/healthz`)).status,
		).toBe(200);
		h.events.emit("SIGTERM");
		await expect(exit).resolves.toBe(0);
	});

	it("stops with exit code 1 after an uncaught exception", async () => {
		const h = harness();
		const exit = main(startArgs(), {}, h.io);
		await h.waitFor("flagd started");
		h.events.emit("uncaughtException", new Error("kaboom"));
		await expect(exit).resolves.toBe(1);
		expect(h.records()).toContainEqual(
			expect.objectContaining({
				msg: "uncaught exception, stopping",
				error: expect.objectContaining({ message: "kaboom" }),
			}),
		);
	});

	it("logs the bound addresses and warnings", async () => {
		const h = harness();
		const exit = main(
			[
				...startArgs(),
				"-f",
				"http://127.0.0.1:1/unused.json",
				"--on-source-failure=continue",
			],
			{ FLAGD_PROT: "1" },
			h.io,
		);
		const started = await h.waitFor("flagd started");
		expect(started).toMatchObject({
			evaluation: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
			management: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
			sync: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
			ofrep: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
		});
		expect(h.records()[0]).toMatchObject({
			level: "warn",
			msg: "FLAGD_PROT is not a flagd start setting and is ignored (see flagd start --help)",
		});
		h.events.emit("SIGTERM");
		await expect(exit).resolves.toBe(0);
	});

	it("returns 1 with every problem on stderr for a bad configuration, starting nothing", async () => {
		const h = harness();
		await expect(main(["start", "-p", "x", "--nope"], {}, h.io)).resolves.toBe(
			1,
		);
		expect(h.stderr()).toContain(
			"  - unknown flag --nope\n  - -p x: --port must be an integer 0-65535\n",
		);
		expect(h.records()).toEqual([]);
		expect(h.events.listenerCount("SIGTERM")).toBe(0);
	});

	it("accepts global flags before the command (flagd --debug start)", async () => {
		const h = harness();
		const sources = JSON.stringify([
			{
				uri: "http://127.0.0.1:1/x.json",
				provider: "http",
				authHeader: "Bearer secret",
				headers: { "X-Key": "k1" },
			},
		]);
		const exit = main(
			[
				"--debug",
				...startArgs(),
				"-s",
				sources,
				"--on-source-failure=continue",
			],
			{},
			h.io,
		);
		const resolved = await h.waitFor("resolved configuration");
		h.events.emit("SIGTERM");
		await expect(exit).resolves.toBe(0);
		expect(resolved.level).toBe("debug");
		// Credentials never reach the log, even at debug level.
		expect(JSON.stringify(resolved)).not.toMatch(/secret|k1/);
		expect(resolved).toMatchObject({
			config: {
				sources: [
					expect.anything(),
					{ authHeader: "[redacted]", headers: { "X-Key": "[redacted]" } },
				],
			},
		});
	});
});
