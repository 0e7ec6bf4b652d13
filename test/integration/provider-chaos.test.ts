/**
 * Chaos: a FlagdProvider (RPC over gRPC, through the OpenFeature server SDK) under concurrent load while the daemon
 * (the real CLI, bundled by scripts/bundle-daemon.mjs so a restart takes a node start rather than a TypeScript
 * compile, in a child process on one fixed port) is SIGKILLed and restarted five times with a different flag value
 * each time. Checked: no evaluation outlives its deadline (plus a margin for a busy 2-core machine); after
 * the provider emits READY following a restart, every evaluation started from then on returns the new value (no
 * stale cache); the test process's open descriptors come back to where they started.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
	copyFileSync,
	mkdtempSync,
	readdirSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { pickFreePorts } from "../conformance/free-ports.js";
import { loopbackDaemonArgs } from "../support/daemon-argv.js";
import { quietLogger } from "../support/provider-test-helpers.js";

const ROOT = path.join(__dirname, "../..");
const CYCLES = 5;
const WORKERS = 4;
/** Evaluations completed against each live daemon before it is killed. */
const LIVE_CALLS = 200;
/** Deadline of every evaluation; also the provider's per-attempt wait for provider_ready. */
const DEADLINE_MS = 2_000;
/** Allowed beyond the deadline: timers firing late and event-loop stalls while a daemon boots beside us. */
const MARGIN_MS = 2_000;
/** Longest wait for one daemon start or one READY (a run takes 15-35 s on a busy 2-core machine). */
const STEP_TIMEOUT_MS = 15_000;

interface Call {
	readonly startedAt: number;
	readonly durationMs: number;
	readonly value: string;
	readonly errorCode: string | undefined;
	readonly errorMessage: string | undefined;
}

let dir: string;
let flagFile: string;
let cli: string;
let port: number;
let child: ChildProcess | undefined;

function writeFlags(value: string): void {
	writeFileSync(
		flagFile,
		JSON.stringify({
			flags: {
				// STATIC: cached by the provider while the stream is live.
				color: {
					state: "ENABLED",
					variants: { current: value },
					defaultVariant: "current",
				},
				// TARGETING_MATCH: never cached, every call goes to the daemon (or fails while it is down).
				targeted: {
					state: "ENABLED",
					variants: { current: value, other: "other" },
					defaultVariant: "other",
					targeting: {
						if: [{ "==": [{ var: "targetingKey" }, "u"] }, "current", null],
					},
				},
			},
		}),
	);
}

function openDescriptors(): number {
	return readdirSync("/proc/self/fd").length;
}

/** Starts the daemon CLI on `port` and resolves once it logs that every source synced. */
function startDaemon(): Promise<void> {
	const started = spawn(
		process.execPath,
		[
			cli,
			"start",
			"--uri",
			`file:${flagFile}`,
			...loopbackDaemonArgs(port),
			"--log-format",
			"json",
		],
		{ cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
	);
	child = started;
	return new Promise((resolve, reject) => {
		let output = "";
		const timer = setTimeout(() => {
			reject(new Error(`daemon not ready in time:\n${output}`));
		}, STEP_TIMEOUT_MS);
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes("flagd ready")) {
				clearTimeout(timer);
				resolve();
			}
		};
		started.stdout?.on("data", onData);
		started.stderr?.on("data", onData);
		started.once("exit", (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`daemon exited (${code ?? signal}):\n${output}`));
		});
	});
}

/** SIGKILLs the daemon and resolves once the process is gone and its pipes are closed. */
async function killDaemon(): Promise<void> {
	const running = child;
	child = undefined;
	if (running === undefined || running.exitCode !== null) return;
	const closed = new Promise<void>((resolve) => running.once("close", resolve));
	running.kill("SIGKILL");
	await closed;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	return Promise.race([
		promise,
		new Promise<never>((_, reject) => {
			timer = setTimeout(
				() => reject(new Error(`timed out waiting for ${what}`)),
				STEP_TIMEOUT_MS,
			);
		}),
	]).finally(() => clearTimeout(timer));
}

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), "flagd-chaos-"));
	flagFile = path.join(dir, "flags.json");
	[port] = (await pickFreePorts(1)) as [number];
	execFileSync(
		process.execPath,
		[path.join(ROOT, "scripts/bundle-daemon.mjs")],
		{
			cwd: ROOT,
			stdio: "pipe",
		},
	);
	// A private copy: another test may rebuild the shared output while this one runs.
	cli = path.join(dir, "flagd.mjs");
	copyFileSync(path.join(ROOT, "packages/daemon/dist/flagd.mjs"), cli);
});

afterAll(async () => {
	await killDaemon();
	rmSync(dir, { recursive: true, force: true });
});

describe("provider under daemon crashes", () => {
	it("keeps every call within its deadline, serves no stale value after READY and leaks no descriptors", async () => {
		const fdsAtStart = openDescriptors();
		const testStarted = performance.now();
		writeFlags("v0");
		await startDaemon();
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port,
			deadlineMs: DEADLINE_MS,
			retryBackoffMs: 50,
			retryBackoffMaxMs: 250,
		});
		await OpenFeature.setProviderAndWait("chaos", provider);
		const client = OpenFeature.getClient("chaos");
		// READY events after the first, in order, each resolving the promise of its cycle.
		const readyWaiters: Array<() => void> = [];
		client.addHandler(ProviderEvents.Ready, () => readyWaiters.shift()?.());

		const calls: Call[] = [];
		let running = true;
		const worker = async (index: number): Promise<void> => {
			const flag = index % 2 === 0 ? "color" : "targeted";
			while (running) {
				const startedAt = performance.now();
				const details = await client.getStringDetails(flag, "fallback", {
					targetingKey: "u",
				});
				calls.push({
					startedAt,
					durationMs: performance.now() - startedAt,
					value: details.value,
					errorCode: details.errorCode,
					errorMessage: details.errorMessage,
				});
				// Let timers and I/O run between calls (a failing call returns at once).
				await new Promise((resolve) => setImmediate(resolve));
			}
		};
		const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));

		// Windows in which only one value is acceptable (no error, no old value): from a READY until the next kill.
		const windows: Array<{ from: number; to: number; value: string }> = [];
		let readyAt = performance.now();
		let value = "v0";
		try {
			for (let cycle = 1; cycle <= CYCLES; cycle++) {
				// Let the load reach the live daemon before killing it.
				const before = calls.length;
				await withTimeout(
					(async () => {
						while (calls.length < before + LIVE_CALLS)
							await new Promise((resolve) => setTimeout(resolve, 5));
					})(),
					"evaluations against the live daemon",
				);
				windows.push({ from: readyAt, to: performance.now(), value });
				await killDaemon();
				value = `v${cycle}`;
				writeFlags(value);
				const ready = new Promise<void>((resolve) =>
					readyWaiters.push(resolve),
				);
				await startDaemon();
				await withTimeout(ready, `READY after restart ${cycle}`);
				readyAt = performance.now();
				for (const flag of ["color", "targeted"]) {
					const details = await client.getStringDetails(flag, "fallback", {
						targetingKey: "u",
					});
					expect(details.value).toBe(value);
				}
			}
			windows.push({ from: readyAt, to: performance.now(), value });
		} finally {
			running = false;
			await Promise.all(workers);
			await OpenFeature.clearProviders();
			await provider.onClose();
			await killDaemon();
		}

		expect(calls.length).toBeGreaterThan(CYCLES * LIVE_CALLS);
		// Reported, not asserted: how long the crashes took end to end and how the calls went.
		console.log(
			`chaos: ${CYCLES} restarts in ${Math.round(performance.now() - testStarted)} ms, ${calls.length} calls, ` +
				`${calls.filter((c) => c.errorCode !== undefined).length} errors, slowest ${Math.round(Math.max(...calls.map((c) => c.durationMs)))} ms`,
		);
		const slowest = Math.max(...calls.map((c) => c.durationMs));
		expect(slowest).toBeLessThan(DEADLINE_MS + MARGIN_MS);
		for (const window of windows) {
			// Calls that ran entirely while the daemon was up (one in flight at the kill may fail, rightly).
			const inWindow = calls.filter(
				(c) =>
					c.startedAt >= window.from && c.startedAt + c.durationMs < window.to,
			);
			expect(inWindow.length).toBeGreaterThan(0);
			const wrong = inWindow.filter((c) => c.value !== window.value);
			expect(wrong).toEqual([]);
		}
		// Sockets, pipes and timers of the provider and the children are gone (a little slack for Jest's own).
		expect(openDescriptors()).toBeLessThanOrEqual(fdsAtStart + 3);
	}, 90_000);
});
