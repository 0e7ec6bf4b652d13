#!/usr/bin/env node
// `npm run test:stress`: runs Jest while every core is kept busy, the way CI's shared 2-core machines run it, so a
// test that hinges on wall-clock luck fails here rather than in CI.
//
// Usage: npm run test:stress -- [--load <n>] [--repeat <n>] [--stress-ng] [jest arguments...]
//   (no jest arguments)  the whole Jest run, like `npm run test:unit`
//   --load <n>           busy workers (default: one per core, os.availableParallelism())
//   --repeat <n>         run Jest n times (default 1) and report how many runs failed; for hunting a flaky test,
//                        e.g. `npm run test:stress -- --repeat 20 packages/daemon/src/syncs/http`
//   --stress-ng          load the cores with Debian's stress-ng (`stress-ng --cpu <n>`), installing it with apt-get
//                        when missing, instead of Node busy-loop workers
// Exit code: 0 when every run passed, 1 otherwise.
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A worker thread that spins until terminated: one busy core. */
const BUSY_LOOP = `
let x = 0;
for (;;) { x = (x * 31 + 7) % 1000003; }
`;

function parseArgs(argv) {
	const options = { load: availableParallelism(), repeat: 1, stressNg: false };
	const jestArgs = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const count = (name) => {
			const value = Number(argv[++i]);
			if (!Number.isInteger(value) || value < 1)
				fail(`${name} needs a whole number ≥ 1, got "${argv[i] ?? ""}"`);
			return value;
		};
		if (arg === "--load") options.load = count("--load");
		else if (arg === "--repeat") options.repeat = count("--repeat");
		else if (arg === "--stress-ng") options.stressNg = true;
		else jestArgs.push(arg);
	}
	return { ...options, jestArgs };
}

function fail(message) {
	console.error(`test:stress: ${message}`);
	process.exit(1);
}

function ensureStressNg() {
	if (spawnSync("stress-ng", ["--version"], { stdio: "ignore" }).status === 0)
		return;
	console.log("test:stress: installing stress-ng (apt-get)");
	const sudo =
		typeof process.getuid === "function" && process.getuid() !== 0
			? ["sudo"]
			: [];
	for (const args of [
		["apt-get", "update", "-qq"],
		["apt-get", "install", "-y", "-qq", "stress-ng"],
	]) {
		const [cmd, ...rest] = [...sudo, ...args];
		const result = spawnSync(cmd, rest, {
			stdio: "inherit",
			env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
		});
		if (result.status !== 0)
			fail(
				`\`${[cmd, ...rest].join(" ")}\` failed; install stress-ng or run without --stress-ng`,
			);
	}
}

/** Starts the load; returns a function that stops it. */
function startLoad({ load, stressNg }) {
	if (stressNg) {
		ensureStressNg();
		const child = spawn("stress-ng", ["--cpu", String(load), "--quiet"], {
			stdio: "ignore",
		});
		return () => {
			child.kill("SIGTERM");
		};
	}
	const workers = Array.from(
		{ length: load },
		() => new Worker(BUSY_LOOP, { eval: true }),
	);
	return () => {
		for (const worker of workers) void worker.terminate();
	};
}

function runJest(jestArgs) {
	return new Promise((resolve) => {
		const child = spawn(
			process.execPath,
			[join(root, "node_modules/jest/bin/jest.js"), ...jestArgs],
			{ cwd: root, stdio: "inherit" },
		);
		child.once("exit", (code, signal) => resolve(code ?? signal));
	});
}

const options = parseArgs(process.argv.slice(2));
console.log(
	`test:stress: ${options.load} busy ${options.stressNg ? "stress-ng workers" : "Node workers"} on ${availableParallelism()} core(s)`,
);
const stop = startLoad(options);
process.once("SIGINT", () => {
	stop();
	process.exit(130);
});
let failed = 0;
try {
	for (let run = 1; run <= options.repeat; run++) {
		const code = await runJest(options.jestArgs);
		if (code !== 0) failed += 1;
		if (options.repeat > 1)
			console.log(
				`test:stress: run ${run}/${options.repeat} ${code === 0 ? "passed" : `failed (${code})`}`,
			);
	}
} finally {
	stop();
}
if (options.repeat > 1)
	console.log(
		`test:stress: ${options.repeat - failed} of ${options.repeat} runs passed`,
	);
process.exitCode = failed === 0 ? 0 : 1;
