/**
 * Report entries for the daemon benchmarks (throughput, propagation, scale, soak), merged into the same
 * bench/results/latest.{json,md} the harness writes (bench/harness.ts `writeReport`), one entry per suite name.
 *
 * Their numbers are not all "ours vs peer µs/eval" pairs, so each entry carries its own tables and its rendered
 * Markdown (`markdown`), and also the harness's SuiteResult fields (`pairs`, `config`, `geometricMeanRatio`, …,
 * with real pairs where there is a reference, e.g. daemon vs empty handler) so harness.writeReport can re-read
 * and re-render the file without failing when another benchmark runs after these.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
	type BenchConfig,
	formatSuite,
	type PairResult,
	type SuiteResult,
} from "../harness.js";

export interface MetricsTable {
	readonly caption: string;
	readonly columns: readonly string[];
	readonly rows: readonly (readonly string[])[];
}

/** One target of the issue, checked against this run. */
export interface TargetCheck {
	readonly name: string;
	readonly target: string;
	readonly measured: string;
	readonly met: boolean;
}

export interface MetricsSuiteInput {
	readonly suite: string;
	readonly title: string;
	readonly smoke: boolean;
	/** How this was produced (`npm run bench -- <name>`). */
	readonly command: string;
	readonly tables: readonly MetricsTable[];
	readonly targets: readonly TargetCheck[];
	readonly notes: readonly string[];
	readonly loadAverage: { readonly start: number; readonly end: number };
	/** Raw measurements (every run), for anyone re-analysing. */
	readonly data: unknown;
	/** Pairs against a reference, when the suite has one (throughput: daemon vs empty handler). */
	readonly pairs?: readonly PairResult[];
	readonly ours?: string;
	readonly peer?: string;
	readonly runs: number;
}

/** A SuiteResult (harness-compatible) plus the metrics and their Markdown. */
export interface MetricsSuite extends SuiteResult {
	readonly kind: "metrics";
	readonly title: string;
	readonly command: string;
	readonly tables: readonly MetricsTable[];
	readonly targets: readonly TargetCheck[];
	readonly notes: readonly string[];
	readonly loadAverage: { readonly start: number; readonly end: number };
	readonly data: unknown;
	readonly markdown: string;
}

/** One table as Markdown: bold caption, then the table (numeric columns right-aligned). */
export function renderTable(table: MetricsTable): string {
	const numeric = table.columns.map((_, i) =>
		table.rows.every((row) =>
			/^[-+]?[\d.,]+( ?[%×a-zA-Zµ/]+)?( \(.*\))?$/.test(row[i] ?? ""),
		),
	);
	return [
		`**${table.caption}**`,
		"",
		`| ${table.columns.join(" | ")} |`,
		`|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
		...table.rows.map((row) => `| ${row.join(" | ")} |`),
		"",
	].join("\n");
}

/** The Markdown section of one metrics suite. */
export function renderMetricsSuite(
	suite: Omit<MetricsSuite, "markdown">,
): string {
	const lines = [
		`### ${suite.suite}: ${suite.title} (${suite.mode}, ${suite.config.runs} runs)`,
		"",
		`Command: \`${suite.command}\`. Load average (1 min) at start/end: ${suite.loadAverage.start.toFixed(2)} / ${suite.loadAverage.end.toFixed(2)}.`,
		"",
		...suite.tables.map(renderTable),
	];
	if (suite.targets.length > 0) {
		lines.push("| target | goal | measured | met |", "|---|---|---|---|");
		for (const t of suite.targets)
			lines.push(
				`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "yes" : "**NO**"} |`,
			);
		lines.push("");
	}
	for (const note of suite.notes) lines.push(`- ${note}`);
	if (suite.notes.length > 0) lines.push("");
	return lines.join("\n");
}

/** Builds the suite entry (harness fields filled in). */
export function metricsSuite(input: MetricsSuiteInput): MetricsSuite {
	const pairs = input.pairs ?? [];
	const ratios = pairs.map((p) => p.ratio.median).filter((r) => r > 0);
	const config: BenchConfig = {
		warmupMs: 0,
		runs: input.runs,
		batchMs: 0,
		smoke: input.smoke,
	};
	const base: Omit<MetricsSuite, "markdown"> = {
		suite: input.suite,
		kind: "metrics",
		title: input.title,
		ours: input.ours ?? "@flagd-ts/daemon",
		peer: input.peer ?? "none",
		mode: input.smoke ? "smoke" : "full",
		config,
		pairs,
		// Never NaN: JSON turns NaN into null, which harness.formatSuite cannot format on re-read.
		geometricMeanRatio:
			ratios.length === 0
				? 0
				: Math.exp(
						ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length,
					),
		geometricMeanOver: pairs.map((p) => p.name),
		command: input.command,
		tables: input.tables,
		targets: input.targets,
		notes: input.notes,
		loadAverage: input.loadAverage,
		data: input.data,
	};
	return { ...base, markdown: renderMetricsSuite(base) };
}

interface ReportFile {
	generatedAt?: string;
	suites?: Record<string, SuiteResult & { markdown?: unknown }>;
}

/**
 * Merges `suite` into `<dir>/latest.json` (other suites kept, same file layout as harness.writeReport) and
 * regenerates `<dir>/latest.md`: suites with their own Markdown use it, the others harness.formatSuite.
 */
export function writeMetricsReport(
	suite: MetricsSuite,
	dir: string,
): { json: string; markdown: string } {
	mkdirSync(dir, { recursive: true });
	const jsonPath = path.join(dir, "latest.json");
	let suites: NonNullable<ReportFile["suites"]> = {};
	try {
		suites =
			(JSON.parse(readFileSync(jsonPath, "utf8")) as ReportFile).suites ?? {};
	} catch (error: unknown) {
		if ((error as NodeJS.ErrnoException).code !== "ENOENT")
			process.stderr.write(
				`bench: ignoring unreadable ${jsonPath}: ${String(error)}\n`,
			);
	}
	suites[suite.suite] = suite;
	const report = {
		generatedAt: new Date().toISOString(),
		node: process.version,
		cpu: os.cpus()[0]?.model ?? "unknown",
		cpus: os.cpus().length,
		suites,
	};
	writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
	const markdownPath = path.join(dir, "latest.md");
	const header = `# Benchmark results\n\nGenerated ${report.generatedAt} on Node ${report.node}, ${report.cpus} × ${report.cpu}. Run with \`npm run bench\`.\n\n`;
	const sections = Object.values(suites).map((s) =>
		typeof s.markdown === "string" ? s.markdown : formatSuite(s),
	);
	writeFileSync(markdownPath, header + sections.join("\n"));
	return { json: jsonPath, markdown: markdownPath };
}
