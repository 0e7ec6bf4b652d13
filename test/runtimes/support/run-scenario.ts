/**
 * Runs provider-scenario.ts in a runtime (Deno, Bun) as a child process, answers its `change-flags` step by
 * rewriting the daemon's flag file, and returns the JSON records it printed. Fails with the child's output when
 * it exits non-zero, prints something that is not JSON, or outlives `timeoutMs` (then it is killed).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type RuntimeDaemon, runtimeFlags } from "./runtime-daemon.js";

/** One line the scenario printed. */
export type ScenarioRecord = Record<string, unknown> & {
	readonly check?: string;
	readonly step?: string;
};

export async function runScenario(
	command: string,
	args: readonly string[],
	options: { cwd: string; daemon: RuntimeDaemon; timeoutMs: number },
): Promise<Map<string, ScenarioRecord>> {
	const child = spawn(command, [...args], {
		cwd: options.cwd,
		// A clean environment: no FLAGD_* of the machine running the tests reaches the provider.
		env: {
			PATH: process.env.PATH ?? "",
			HOME: process.env.HOME ?? "",
			NO_COLOR: "1",
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	const records = new Map<string, ScenarioRecord>();
	const output: string[] = [];
	let stderr = "";
	child.stderr.setEncoding("utf8");
	child.stderr.on("data", (chunk: string) => {
		stderr += chunk;
	});
	const lines = createInterface({ input: child.stdout });
	lines.on("line", (line) => {
		output.push(line);
		let record: ScenarioRecord;
		try {
			record = JSON.parse(line) as ScenarioRecord;
		} catch {
			return;
		}
		if (record.step === "change-flags")
			options.daemon.writeFlags(runtimeFlags("blue"));
		if (record.check !== undefined) records.set(record.check, record);
	});
	const exit = await new Promise<{ code: number | null; timedOut: boolean }>(
		(resolve) => {
			const timer = setTimeout(() => {
				child.kill("SIGKILL");
				resolve({ code: null, timedOut: true });
			}, options.timeoutMs);
			child.once("close", (code) => {
				clearTimeout(timer);
				resolve({ code, timedOut: false });
			});
		},
	);
	lines.close();
	if (exit.timedOut || exit.code !== 0) {
		throw new Error(
			`${command} ${args.join(" ")} ${exit.timedOut ? `did not exit within ${options.timeoutMs} ms` : `exited with ${exit.code}`}\nstdout:\n${output.join("\n")}\nstderr:\n${stderr.slice(-4000)}`,
		);
	}
	return records;
}
