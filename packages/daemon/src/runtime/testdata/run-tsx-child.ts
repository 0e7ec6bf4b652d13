/**
 * Runs a TypeScript child script under tsx in a fresh Node process (for tests of process-wide V8 settings, which
 * must not change the test process) and resolves with its exit code and output once it exits.
 */
import { spawn } from "node:child_process";

export interface ChildOutcome {
	readonly code: number | null;
	readonly out: string;
	readonly err: string;
}

export function runTsxChild(
	script: string,
	nodeArgs: readonly string[] = [],
): Promise<ChildOutcome> {
	const child = spawn(
		process.execPath,
		[...nodeArgs, "--import", "tsx", script],
		{
			stdio: ["ignore", "pipe", "pipe"],
		},
	);
	let out = "";
	let err = "";
	child.stdout.on("data", (d: Buffer) => {
		out += d.toString();
	});
	child.stderr.on("data", (d: Buffer) => {
		err += d.toString();
	});
	return new Promise((resolve, reject) => {
		child.on("error", reject);
		child.on("exit", (code) => resolve({ code, out, err }));
	});
}
