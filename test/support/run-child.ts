/**
 * Runs a TypeScript script in a child Node process (under tsx) and collects how it ended, for the tests that check
 * nothing (a timer, a socket, a stream) keeps a process alive. Two budgets: `startupMs` catches a child that never
 * gets to its point (tsx compiling the sources takes seconds on a busy machine, so it is generous), and once the
 * child has printed `exitAfter.output`, it must exit within `exitAfter.ms` — the check that matters, measured from
 * the moment it applies rather than from the spawn. A child killed by either budget is reported as exit code null.
 */
import { spawn } from "node:child_process";

/** How the child ended. */
export interface ChildOutcome {
	readonly exitCode: number | null;
	readonly out: string;
	readonly err: string;
}

export interface RunChildOptions {
	readonly cwd: string;
	/** Kill the child if it has not printed `exitAfter.output` (or exited) by then. */
	readonly startupMs: number;
	/** Once stdout contains `output`, the child must exit within `ms`. */
	readonly exitAfter?: { readonly output: string; readonly ms: number };
}

export function runTsChild(
	script: string,
	args: readonly string[],
	options: RunChildOptions,
): Promise<ChildOutcome> {
	const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
		cwd: options.cwd,
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	let err = "";
	return new Promise((resolve) => {
		const kill = (): void => {
			child.kill("SIGKILL");
			resolve({ exitCode: null, out, err });
		};
		let killer = setTimeout(kill, options.startupMs);
		let exitClockStarted = false;
		child.stdout.on("data", (d: Buffer) => {
			out += d.toString();
			const { exitAfter } = options;
			if (
				exitAfter !== undefined &&
				!exitClockStarted &&
				out.includes(exitAfter.output)
			) {
				exitClockStarted = true;
				clearTimeout(killer);
				killer = setTimeout(kill, exitAfter.ms);
			}
		});
		child.stderr.on("data", (d: Buffer) => {
			err += d.toString();
		});
		child.on("exit", (code) => {
			clearTimeout(killer);
			resolve({ exitCode: code, out, err });
		});
	});
}
