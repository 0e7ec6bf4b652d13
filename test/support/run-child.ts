/**
 * Runs a TypeScript script in a child Node process (under tsx) and collects how it ended, for the tests that check
 * nothing (a timer, a socket, a stream) keeps a process alive: the child is killed after `timeoutMs`, reported as
 * exit code null.
 */
import { spawn } from "node:child_process";

/** How the child ended. */
export interface ChildOutcome {
	readonly exitCode: number | null;
	readonly out: string;
	readonly err: string;
}

export function runTsChild(
	script: string,
	args: readonly string[],
	options: { readonly cwd: string; readonly timeoutMs: number },
): Promise<ChildOutcome> {
	const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
		cwd: options.cwd,
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	let err = "";
	child.stdout.on("data", (d: Buffer) => {
		out += d.toString();
	});
	child.stderr.on("data", (d: Buffer) => {
		err += d.toString();
	});
	return new Promise((resolve) => {
		const killer = setTimeout(() => {
			child.kill("SIGKILL");
			resolve({ exitCode: null, out, err });
		}, options.timeoutMs);
		child.on("exit", (code) => {
			clearTimeout(killer);
			resolve({ exitCode: code, out, err });
		});
	});
}
