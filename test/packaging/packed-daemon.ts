/**
 * Starts the packed daemon's `flagd` bin (node_modules/.bin/flagd in the consumer project) as a real process on free
 * ports of 127.0.0.1 and waits for its "flagd ready" log line, with a bounded timeout rather than a fixed sleep.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { loopbackDaemonArgs } from "../support/daemon-argv.js";

export interface PackedDaemon {
	readonly evaluation: string;
	readonly ofrep: string;
	readonly management: string;
	/** Sends SIGTERM and resolves with the exit code. */
	stop(): Promise<number | null>;
}

interface StartedLine {
	readonly msg: string;
	readonly evaluation?: string;
	readonly ofrep?: string;
	readonly management?: string;
}

export function startPackedDaemon(
	consumer: string,
	args: readonly string[],
	timeoutMs: number,
): Promise<PackedDaemon> {
	const child: ChildProcess = spawn(
		process.execPath,
		[
			join("node_modules", ".bin", "flagd"),
			...args,
			// Free ports on loopback only, and JSON logs this helper can read.
			...loopbackDaemonArgs(),
			"--log-format",
			"json",
		],
		{ cwd: consumer, stdio: ["ignore", "pipe", "pipe"] },
	);
	const exited = new Promise<number | null>((resolve) =>
		child.once("exit", (code) => resolve(code)),
	);
	const stop = async (): Promise<number | null> => {
		if (child.exitCode === null && child.signalCode === null)
			child.kill("SIGTERM");
		return exited;
	};
	return new Promise((resolve, reject) => {
		let output = "";
		let started: StartedLine | undefined;
		const fail = (reason: string): void => {
			clearTimeout(timer);
			void stop().then(() =>
				reject(new Error(`${reason}; output:\n${output}`)),
			);
		};
		const timer = setTimeout(
			() => fail(`no "flagd ready" within ${timeoutMs} ms`),
			timeoutMs,
		);
		child.stderr?.on("data", (chunk: Buffer) => {
			output += chunk.toString();
		});
		child.stdout?.on("data", (chunk: Buffer) => {
			output += chunk.toString();
			// The last piece may be half a line; it is read again once its newline arrives.
			for (const line of output.split("\n").slice(0, -1)) {
				if (!line.startsWith("{")) continue;
				const entry = JSON.parse(line) as StartedLine;
				if (entry.msg === "flagd started") started = entry;
				if (entry.msg.startsWith("flagd ready") && started !== undefined) {
					clearTimeout(timer);
					const { evaluation, ofrep, management } = started;
					if (
						evaluation === undefined ||
						ofrep === undefined ||
						management === undefined
					) {
						fail("the started line has no listen addresses");
						return;
					}
					resolve({ evaluation, ofrep, management, stop });
				}
			}
		});
		child.once("exit", (code) => {
			if (started === undefined)
				fail(`flagd exited with ${code} before it was ready`);
		});
	});
}
