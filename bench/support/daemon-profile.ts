/**
 * Runs some load against a daemon started under `node --cpu-prof` (bundled as in production; frames are mapped
 * back to source files by cpu-profile-summary.ts), stops it gracefully so V8 writes the profile, and returns the
 * summary as report tables.
 * This is how the benchmarks name a bottleneck when a target is missed.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatInt } from "./bench-args.js";
import {
	type BenchDaemon,
	type BenchDaemonOptions,
	startBenchDaemon,
} from "./bench-daemon.js";
import {
	type ProfileSummary,
	summarizeCpuProfile,
} from "./cpu-profile-summary.js";
import type { FlagDocument } from "./flag-documents.js";
import type { MetricsTable } from "./metrics-report.js";

export interface DaemonProfile {
	readonly summary: ProfileSummary;
	readonly tables: MetricsTable[];
}

/** See the file comment. `what` names the load in the table captions. */
export async function profileDaemonUnder(
	flagFile: string,
	document: FlagDocument | undefined,
	what: string,
	load: (daemon: BenchDaemon) => Promise<void>,
	streamCaps?: BenchDaemonOptions["streamCaps"],
): Promise<DaemonProfile> {
	const profileDir = mkdtempSync(path.join(os.tmpdir(), "bench-cpu-profile-"));
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			...(document === undefined ? {} : { document }),
			nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
			...(streamCaps === undefined ? {} : { streamCaps }),
		});
		try {
			await load(daemon);
		} finally {
			await daemon.stop();
		}
		const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
		if (file === undefined)
			throw new Error(`no .cpuprofile written in ${profileDir}`);
		const summary = summarizeCpuProfile(path.join(profileDir, file), 15);
		return {
			summary,
			tables: [
				{
					caption: `CPU profile of the daemon under ${what} (node --cpu-prof; ${formatInt(summary.samples)} non-idle samples, ${formatInt(summary.busyMs)} ms busy of ${formatInt(summary.wallMs)} ms): self time by module`,
					columns: ["module", "self %"],
					rows: summary.byModule
						.slice(0, 10)
						.map((m) => [m.module, `${m.selfPercent.toFixed(1)} %`]),
				},
				{
					caption: "Top frames by self time",
					columns: ["function", "where", "self %"],
					rows: summary.topFrames.map((f) => [
						`\`${f.name}\``,
						f.where === "" ? "" : `\`${f.where}\``,
						`${f.selfPercent.toFixed(1)} %`,
					]),
				},
			],
		};
	} finally {
		rmSync(profileDir, { recursive: true, force: true });
	}
}
