import path from "node:path";
import { runEvaluatorBench } from "./evaluator-suite.js";
import { formatSuite, writeReport } from "./harness.js";

// Entry point run by scripts/bench.mjs (`node --import tsx bench/evaluator.bench.ts [--smoke] [--runs N] [--out <dir>]`).
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const outIndex = args.indexOf("--out");
// The repo root: scripts/bench.mjs runs every bench with cwd = repo root (the compiled bench lives elsewhere).
const here = path.join(process.cwd(), "bench");
const outDir =
	outIndex >= 0 && args[outIndex + 1] !== undefined
		? path.resolve(args[outIndex + 1] as string)
		: path.join(here, "results");

const runsIndex = args.indexOf("--runs");
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : undefined;
const result = runEvaluatorBench(
	runs === undefined ? { smoke } : { smoke, runs },
);
process.stdout.write(`${formatSuite(result)}\n`);
const written = writeReport(result, outDir);
process.stdout.write(`bench: wrote ${written.markdown} and ${written.json}\n`);
