/**
 * Runs a shell block of the docs the way a reader would: `bash -c <block>` from the repository root, in its own
 * process group so that stopping it also stops what it started (npm → node → the daemon). Output is collected line
 * by line so tests can wait for a line instead of sleeping.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { REPO_ROOT } from "./doc-blocks.js";

export interface ShellProcessOptions {
	/** Added to the test's own environment. */
	readonly env?: Readonly<Record<string, string>>;
	/** Keep stdin open (esbuild's --serve stops when stdin closes, as in a terminal it would not). @default false */
	readonly keepStdinOpen?: boolean;
}

export interface ExitResult {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly stdout: string;
	readonly stderr: string;
}

/** A running shell block. */
export class ShellProcess {
	readonly script: string;
	private readonly child: ChildProcess;
	private stdoutText = "";
	private stderrText = "";
	private readonly listeners = new Set<() => void>();
	readonly exited: Promise<ExitResult>;

	constructor(script: string, options: ShellProcessOptions = {}) {
		this.script = script;
		this.child = spawn("bash", ["-c", script], {
			cwd: REPO_ROOT,
			env: { ...process.env, ...options.env },
			stdio: [options.keepStdinOpen ? "pipe" : "ignore", "pipe", "pipe"],
			detached: true,
		});
		this.child.stdout?.setEncoding("utf8");
		this.child.stderr?.setEncoding("utf8");
		this.child.stdout?.on("data", (chunk: string) => {
			this.stdoutText += chunk;
			this.notify();
		});
		this.child.stderr?.on("data", (chunk: string) => {
			this.stderrText += chunk;
			this.notify();
		});
		this.exited = new Promise((resolve) => {
			this.child.on("close", (code, signal) => {
				this.notify();
				resolve({
					code,
					signal,
					stdout: this.stdoutText,
					stderr: this.stderrText,
				});
			});
		});
	}

	get stdout(): string {
		return this.stdoutText;
	}

	get stderr(): string {
		return this.stderrText;
	}

	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	/**
	 * Resolves with the first match of `pattern` in stdout+stderr; rejects after `timeoutMs` or when the process
	 * exits first, with its output in the message.
	 */
	waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
		return new Promise((resolve, reject) => {
			const check = (): void => {
				const match = pattern.exec(`${this.stdoutText}\n${this.stderrText}`);
				if (match !== null) {
					done();
					resolve(match);
				} else if (!this.running) {
					done();
					reject(
						new Error(`${this.describe()} exited before printing ${pattern}`),
					);
				}
			};
			const timer = setTimeout(() => {
				done();
				reject(
					new Error(
						`${this.describe()} did not print ${pattern} within ${timeoutMs} ms`,
					),
				);
			}, timeoutMs);
			const done = (): void => {
				clearTimeout(timer);
				this.listeners.delete(check);
			};
			this.listeners.add(check);
			check();
		});
	}

	/** Sends `signal` to the whole process group and waits for the shell to exit (SIGKILL after `timeoutMs`). */
	async stop(
		signal: NodeJS.Signals = "SIGTERM",
		timeoutMs = 5_000,
	): Promise<ExitResult> {
		if (this.running && this.child.pid !== undefined) {
			this.signalGroup(signal);
			const timer = setTimeout(() => this.signalGroup("SIGKILL"), timeoutMs);
			try {
				return await this.exited;
			} finally {
				clearTimeout(timer);
			}
		}
		return this.exited;
	}

	private signalGroup(signal: NodeJS.Signals): void {
		if (this.child.pid === undefined) return;
		try {
			process.kill(-this.child.pid, signal);
		} catch (e: unknown) {
			// ESRCH: the group is already gone, which is what stop() wants.
			if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
		}
	}

	private describe(): string {
		return `"${this.script.trim()}"\n--- stdout ---\n${this.stdoutText}\n--- stderr ---\n${this.stderrText}\n---`;
	}

	private notify(): void {
		for (const listener of [...this.listeners]) listener();
	}
}

/** Runs a shell block to completion; rejects when it takes longer than `timeoutMs` (the group is killed). */
export async function runShell(
	script: string,
	options: ShellProcessOptions & { readonly timeoutMs?: number } = {},
): Promise<ExitResult> {
	const shell = new ShellProcess(script, options);
	const timeoutMs = options.timeoutMs ?? 15_000;
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			void shell.stop("SIGKILL");
			reject(
				new Error(`"${script.trim()}" did not finish within ${timeoutMs} ms`),
			);
		}, timeoutMs);
	});
	try {
		return await Promise.race([shell.exited, timeout]);
	} finally {
		clearTimeout(timer);
	}
}
