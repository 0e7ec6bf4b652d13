/**
 * Instructions per request of one server under one throughput case, counted by valgrind's callgrind: user-space
 * instructions of every thread of the server process, JIT code included. Unlike CPU time on a shared 2-core machine,
 * the count repeats within 2 % whatever else the machine does, so it settles comparisons that CPU time cannot
 * (docs/performance.md, "Instructions and system calls per request"). It leaves out the kernel: compare system calls
 * with `strace -c` where the two sides may differ in them.
 *
 *   node --import tsx bench/support/instruction-count.ts --server daemon|bare|compat|listener \
 *     --case connect-h2c|grpc-h2c|ofrep-single|ofrep-bulk [--warm 20000] [--requests 20000]
 *
 * The server runs bundled, as in the throughput suite (the daemon at V8's defaults: under callgrind it never sees
 * the request rate at which the shipped daemon lifts its young-generation cap); h2load sends `--warm` requests, the
 * counts are zeroed (`callgrind_control -z`), `--requests` more are sent and the counts dumped (`-d`). Run one at a
 * time: a server slowed further by a second one under callgrind does more per-second work (timers) per request.
 * Needs valgrind and h2load; not part of `npm run bench`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeAnswersFile } from "./bare-answers.js";
import { startBenchDaemon } from "./bench-daemon.js";
import { removeBundles, startChild } from "./child-process.js";
import { throughputDocument } from "./flag-documents.js";
import {
	type Endpoints,
	type LoadCaseId,
	loadCases,
} from "./throughput-cases.js";

type ServerKind = "daemon" | "bare" | "compat" | "listener";
const SERVERS: readonly ServerKind[] = ["daemon", "bare", "compat", "listener"];
const CASES: readonly LoadCaseId[] = [
	"connect-h2c",
	"grpc-h2c",
	"ofrep-single",
	"ofrep-bulk",
];
/** Under callgrind node starts about fifty times slower. */
const START_TIMEOUT_MS = 300_000;

interface CountArgs {
	readonly server: ServerKind;
	readonly caseId: LoadCaseId;
	readonly warm: number;
	readonly requests: number;
}

function countArgs(): CountArgs {
	const { values } = parseArgs({
		options: {
			server: { type: "string" },
			case: { type: "string" },
			warm: { type: "string", default: "20000" },
			requests: { type: "string", default: "20000" },
		},
	});
	const server = values.server as ServerKind;
	if (!SERVERS.includes(server))
		throw new Error(`--server must be one of ${SERVERS.join(", ")}`);
	const caseId = values.case as LoadCaseId;
	if (!CASES.includes(caseId))
		throw new Error(
			`--case must be one of ${CASES.join(", ")} (connect-h1 runs on wrk, which has no request count)`,
		);
	const count = (name: string, text: string): number => {
		const n = Number(text);
		if (!Number.isInteger(n) || n < 1)
			throw new Error(`--${name} must be a positive integer, got "${text}"`);
		return n;
	};
	return {
		server,
		caseId,
		warm: count("warm", values.warm),
		requests: count("requests", values.requests),
	};
}

/** The endpoints of a ready line, whichever server printed it. */
function endpointsOf(
	server: ServerKind,
	ports: Record<string, number>,
): Endpoints {
	switch (server) {
		case "daemon":
			return {
				evaluationPort: ports.evaluation as number,
				ofrepPort: ports.ofrep as number,
			};
		case "bare":
			return {
				evaluationPort: ports.http1 as number,
				ofrepPort: ports.http1 as number,
				h2cPort: ports.h2c as number,
			};
		default: {
			// The layer servers answer every case on one port each.
			const port = ports[server] as number;
			return { evaluationPort: port, ofrepPort: port };
		}
	}
}

/** The total instruction count of the dump callgrind wrote on `-d` (`<out-file>.1`). */
function dumpedInstructions(dir: string, pid: number): number {
	const file = path.join(dir, `callgrind.${pid}.1`);
	const total = /^(?:summary|totals): *(\d+)/m.exec(readFileSync(file, "utf8"));
	if (total === null) throw new Error(`${file}: no instruction total`);
	return Number(total[1]);
}

async function main(): Promise<void> {
	const args = countArgs();
	const dir = mkdtempSync(path.join(os.tmpdir(), "instruction-count-"));
	try {
		const flagFile = path.join(dir, "flags.json");
		const answersFile = path.join(dir, "answers.json");
		// The ceilings answer the daemon's own bytes: recorded from a daemon run normally first.
		const recorder = await startBenchDaemon({
			flagFile,
			document: throughputDocument(),
		});
		try {
			await writeAnswersFile(answersFile, {
				evaluationPort: recorder.ports.evaluation,
				ofrepPort: recorder.ports.ofrep,
			});
		} finally {
			await recorder.stop();
		}
		const script =
			args.server === "daemon"
				? "bench/support/daemon-process.ts"
				: args.server === "bare"
					? "bench/support/bare-ceiling-server.ts"
					: "bench/support/layer-ceiling-server.ts";
		const child = await startChild<{ ports: Record<string, number> }>({
			script,
			args:
				args.server === "daemon"
					? ["--source", flagFile, "--v8-defaults"]
					: ["--answers", answersFile],
			wrapper: [
				"valgrind",
				"--tool=callgrind",
				"--smc-check=all-non-file",
				"-q",
				`--callgrind-out-file=${path.join(dir, "callgrind.%p")}`,
			],
			startTimeoutMs: START_TIMEOUT_MS,
		});
		try {
			const target = endpointsOf(args.server, child.ready.ports);
			const run = (requests: number) => {
				const kase = loadCases(dir, false, requests).find(
					(c) => c.id === args.caseId,
				);
				if (kase === undefined) throw new Error(`no case ${args.caseId}`);
				return kase.run(target, undefined);
			};
			await run(args.warm);
			execFileSync("callgrind_control", ["-z", String(child.pid)], {
				stdio: "ignore",
			});
			const result = await run(args.requests);
			execFileSync("callgrind_control", ["-d", String(child.pid)], {
				stdio: "ignore",
			});
			const instructions = dumpedInstructions(dir, child.pid);
			process.stdout.write(
				`${JSON.stringify({
					server: args.server,
					case: args.caseId,
					requests: result.completed,
					instructions,
					instructionsPerRequest: Math.round(instructions / result.completed),
				})}\n`,
			);
		} finally {
			await child.stop();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
		removeBundles();
	}
}

main().catch((e: unknown) => {
	process.stderr.write(
		`instruction-count: ${e instanceof Error ? e.message : String(e)}\n`,
	);
	process.exit(1);
});
