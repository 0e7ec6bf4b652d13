// Child processes for the package check: `run` reports the exit code, `mustRun` throws with the output.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

// Every child process has a budget (`timeoutMs`, from step-budgets.mjs): one that outlives it is killed and the
// error names the command and the budget, so a hung step is told apart from a failing one.
export async function run(cmd, args, { timeoutMs, ...options }) {
	if (!(timeoutMs > 0))
		throw new Error(`${cmd} ${args.join(" ")}: no time budget given`);
	try {
		const { stdout, stderr } = await execFileAsync(cmd, args, {
			maxBuffer: 64 * 1024 * 1024,
			timeout: timeoutMs,
			killSignal: "SIGKILL",
			...options,
		});
		return { code: 0, stdout, stderr };
	} catch (error) {
		if (error?.killed === true)
			throw new Error(
				`${cmd} ${args.join(" ")} (in ${options.cwd}) ran past its budget of ${timeoutMs} ms and was killed\n${error.stdout}\n${error.stderr}`,
			);
		if (typeof error?.code === "number")
			return { code: error.code, stdout: error.stdout, stderr: error.stderr };
		throw error;
	}
}

export async function mustRun(cmd, args, options) {
	const result = await run(cmd, args, options);
	if (result.code !== 0) {
		throw new Error(
			`${cmd} ${args.join(" ")} (in ${options.cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`,
		);
	}
	return result;
}

/**
 * Like Promise.all, but waits for every promise before rejecting, so no child process is still writing into the
 * scratch directory when the caller cleans it up. Rejects with every distinct failure (a sibling's failed build
 * is also the failure of the packages waiting on it).
 */
export async function settleAll(promises) {
	const results = await Promise.allSettled(promises);
	const reasons = [
		...new Set(
			results.filter((r) => r.status === "rejected").map((r) => r.reason),
		),
	];
	if (reasons.length === 1) throw reasons[0];
	if (reasons.length > 1) {
		throw new AggregateError(
			reasons,
			reasons.map((r) => String(r?.message ?? r)).join("\n"),
		);
	}
	return results.map((r) => r.value);
}
