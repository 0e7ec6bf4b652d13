/**
 * Idle memory: the daemon serving one flag beside a bare Node process and a bare `node:http2` server, started the
 * same way (bundled with esbuild, plain `node`, no flags) and measured in the same run, plus the single-file
 * `flagd start` users run (scripts/bundle-daemon.mjs). RSS (VmRSS from
 * /proc) is read twice per process: shortly after it is ready, and after it has idled long enough for V8's memory
 * reducer to run (it gives back young-generation space grown while starting). The processes of one run
 * idle side by side; runs repeat with fresh processes.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loopbackDaemonArgs } from "../../test/support/daemon-argv.js";
import { stats } from "../harness.js";
import { formatMiB } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import { REPO_ROOT, startChild } from "./child-process.js";
import type { IdleReadyLine } from "./idle-process.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m, readRssBytes } from "./proc-stats.js";

export interface MemoryOptions {
	readonly smoke: boolean;
}

const MIB = 1024 * 1024;
/** Issue target: the idle daemon with one flag. */
const IDLE_TARGET_BYTES = 55 * MIB;
const ONE_FLAG = {
	flags: {
		"show-banner": {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
	},
};

type Kind = "node" | "http2" | "daemon" | "cli";
const KINDS: readonly Kind[] = ["node", "http2", "daemon", "cli"];
const LABELS: Record<Kind, string> = {
	node: "bare Node process",
	http2: "bare node:http2 server",
	daemon: "daemon, one flag (bench daemon process)",
	cli: "`flagd start`, one flag (single-file build, minified)",
};

interface Sample {
	readonly earlyRssBytes: number[];
	readonly idleRssBytes: number[];
}

interface Running {
	readonly pid: number;
	stop(): Promise<unknown>;
}

/** The single-file `flagd` (scripts/bundle-daemon.mjs), built into `dir` once per run of the benchmark. */
function buildCli(dir: string): string {
	const outfile = path.join(dir, "flagd.mjs");
	execFileSync(
		process.execPath,
		["scripts/bundle-daemon.mjs", "--outfile", outfile],
		{ cwd: REPO_ROOT, stdio: "pipe" },
	);
	return outfile;
}

/** `flagd start` on one flag file, every listener on 127.0.0.1 port 0; ready when it logs so. */
async function startCli(cli: string, flagFile: string): Promise<Running> {
	const child = spawn(
		process.execPath,
		[cli, "start", "-f", `file:${flagFile}`, ...loopbackDaemonArgs()],
		{ stdio: ["ignore", "pipe", "inherit"] },
	);
	const exited = new Promise<void>((resolve) =>
		child.once("exit", () => resolve()),
	);
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(new Error("flagd start did not become ready within 30 s"));
		}, 30_000);
		let seen = "";
		child.stdout?.on("data", (chunk: Buffer) => {
			seen += chunk.toString("utf8");
			if (seen.includes("flagd ready")) {
				clearTimeout(timer);
				child.stdout?.resume();
				resolve();
			}
		});
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`flagd start exited with ${code} before ready`));
		});
	});
	return {
		pid: child.pid as number,
		stop: async () => {
			child.kill("SIGTERM");
			await exited;
		},
	};
}

async function start(kind: Kind, dir: string, cli: string): Promise<Running> {
	if (kind === "cli") return startCli(cli, path.join(dir, "one-flag.json"));
	if (kind === "daemon") {
		const daemon = await startBenchDaemon({
			flagFile: path.join(dir, "one-flag.json"),
			document: ONE_FLAG as never,
		});
		return { pid: daemon.pid, stop: () => daemon.stop() };
	}
	const child = await startChild<IdleReadyLine>({
		script: "bench/support/idle-process.ts",
		args: ["--kind", kind],
	});
	return { pid: child.pid, stop: () => child.stop() };
}

/** Runs the benchmark; see the file comment. */
export async function runMemory(options: MemoryOptions): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const runs = smoke ? 1 : 3;
	const earlyMs = 1_000;
	const idleMs = smoke ? 2_000 : 40_000;
	const samples: Record<Kind, Sample> = {
		node: { earlyRssBytes: [], idleRssBytes: [] },
		http2: { earlyRssBytes: [], idleRssBytes: [] },
		daemon: { earlyRssBytes: [], idleRssBytes: [] },
		cli: { earlyRssBytes: [], idleRssBytes: [] },
	};
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-memory-"));
	try {
		writeFileSync(path.join(dir, "one-flag.json"), JSON.stringify(ONE_FLAG));
		const cli = buildCli(dir);
		for (let run = 0; run < runs; run++) {
			const running: Partial<Record<Kind, Running>> = {};
			try {
				// One after the other, so start-up work does not overlap; then all three idle together.
				for (const kind of KINDS) running[kind] = await start(kind, dir, cli);
				await sleep(earlyMs);
				for (const kind of KINDS)
					samples[kind].earlyRssBytes.push(
						readRssBytes((running[kind] as Running).pid),
					);
				await sleep(idleMs - earlyMs);
				for (const kind of KINDS)
					samples[kind].idleRssBytes.push(
						readRssBytes((running[kind] as Running).pid),
					);
			} finally {
				await Promise.all(Object.values(running).map((r) => r.stop()));
			}
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const cell = (values: number[]): string => {
		const s = stats(values);
		return runs === 1
			? formatMiB(s.median)
			: `${formatMiB(s.median)} (${formatMiB(s.min)}–${formatMiB(s.max)})`;
	};
	const median = (values: number[]) => stats(values).median;
	const base = median(samples.http2.idleRssBytes);
	const rows = KINDS.map((kind) => [
		LABELS[kind],
		cell(samples[kind].earlyRssBytes),
		cell(samples[kind].idleRssBytes),
		kind === "http2"
			? "–"
			: formatMiB(median(samples[kind].idleRssBytes) - base),
	]);
	const targets: TargetCheck[] = (["daemon", "cli"] as const).map((kind) => {
		const idle = median(samples[kind].idleRssBytes);
		return {
			name: `idle RSS with one flag: ${LABELS[kind]}`,
			target: "≤ 55 MiB",
			measured: `${formatMiB(idle)} (${formatMiB(median(samples[kind].earlyRssBytes))} ${earlyMs / 1000} s after ready)`,
			met: idle <= IDLE_TARGET_BYTES,
		};
	});
	return metricsSuite({
		suite: "memory",
		title:
			"idle RSS of the daemon beside a bare Node process and a bare node:http2 server",
		smoke,
		command: `npm run bench -- memory${smoke ? " --smoke" : ""}`,
		runs,
		tables: [
			{
				caption: `Idle RSS (medians over ${runs} run${runs === 1 ? "" : "s"}, fresh processes; min–max in brackets)`,
				columns: [
					"process",
					`RSS ${earlyMs / 1000} s after ready`,
					`RSS after ${idleMs / 1000} s idle`,
					"idle RSS over the bare http2 server",
				],
				rows,
			},
		],
		targets,
		notes: [
			"The bare processes and the bench daemon process run as the other daemon benchmarks run the daemon: bundled with esbuild (unminified), plain `node` without flags; the daemon serves one flag from a file through startDaemon() with every listener on 127.0.0.1, port 0. The last row is what users run: `node flagd.mjs start` from `scripts/bundle-daemon.mjs` (minified), same flag file and ports.",
			"RSS = VmRSS from /proc/<pid>/status. Shortly after start V8 still holds young-generation space grown while modules were evaluated; its memory reducer gives it back after some idle seconds, which the second column shows.",
			...(smoke ? ["Smoke: one run, 2 s idle."] : []),
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: { runs, earlyMs, idleMs, samples },
	});
}
