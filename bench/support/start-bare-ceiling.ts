/**
 * Starts the bare ceiling (bare-ceiling-server.ts) in its own process, answering the recorded answers in
 * `answersFile`, with the figures the benchmarks read from it: its endpoints (HTTP/1.1 for Connect and OFREP, h2c
 * for Connect and gRPC) and its GC tally (gc-tally.ts).
 */
import type { BareCeilingReadyLine } from "./bare-ceiling-server.js";
import { type RunningChild, startChild } from "./child-process.js";
import { type GcTally, gcTallyEnv, readGcTally } from "./gc-tally.js";
import type { Endpoints } from "./throughput-cases.js";

export interface BareCeilingOptions {
	/** Node flags, e.g. gc-tally.ts DAEMON_YOUNG_GENERATION_NODE_ARGS. */
	readonly nodeArgs?: readonly string[];
	/** Keep a GC tally, read with tally(). @default true */
	readonly gcTally?: boolean;
}

export interface BareCeiling {
	readonly pid: number;
	readonly target: Endpoints;
	readonly child: RunningChild<BareCeilingReadyLine>;
	tally(): Promise<GcTally>;
	stop(): Promise<number | string>;
}

/** See the file comment. */
export async function startBareCeiling(
	answersFile: string,
	options: BareCeilingOptions = {},
): Promise<BareCeiling> {
	const child = await startChild<BareCeilingReadyLine>({
		script: "bench/support/bare-ceiling-server.ts",
		args: ["--answers", answersFile],
		nodeArgs: options.nodeArgs ?? [],
		...(options.gcTally === false ? {} : { env: gcTallyEnv() }),
	});
	return {
		pid: child.ready.pid,
		target: {
			evaluationPort: child.ready.ports.http1,
			ofrepPort: child.ready.ports.http1,
			h2cPort: child.ready.ports.h2c,
		},
		child,
		tally: () => readGcTally(child),
		stop: () => child.stop(),
	};
}
