/**
 * Starts a documented example server in a runtime, waits for its "listening on <url>" line, fetches `url`,
 * stops it with SIGTERM (the example closes OpenFeature and the server) and returns the JSON body. Fails with the
 * child's output when it does not listen, answer or exit within `timeoutMs`.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export async function runExampleServer(
	command: string,
	args: readonly string[],
	options: {
		cwd: string;
		env: Record<string, string>;
		url: string;
		timeoutMs: number;
	},
): Promise<unknown> {
	const child = spawn(command, [...args], {
		cwd: options.cwd,
		env: {
			PATH: process.env.PATH ?? "",
			HOME: process.env.HOME ?? "",
			NO_COLOR: "1",
			...options.env,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	const output: string[] = [];
	child.stderr.setEncoding("utf8");
	child.stderr.on("data", (chunk: string) => output.push(chunk));
	const exited = new Promise<number | null>((resolve) =>
		child.once("close", (code) => resolve(code)),
	);
	const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
	try {
		const lines = createInterface({ input: child.stdout });
		const listening = new Promise<void>((resolve, reject) => {
			lines.on("line", (line) => {
				output.push(line);
				if (line.includes(`listening on ${options.url}`)) resolve();
			});
			void exited.then((code) =>
				reject(new Error(`exited (${code}) before listening`)),
			);
		});
		await listening;
		const response = await fetch(options.url);
		const body: unknown = await response.json();
		child.kill("SIGTERM");
		const code = await exited;
		if (code !== 0) throw new Error(`exited with ${code} after SIGTERM`);
		return body;
	} catch (error: unknown) {
		child.kill("SIGKILL");
		await exited;
		throw new Error(
			`${command} ${args.join(" ")}: ${error instanceof Error ? error.message : String(error)}\n${output.join("\n").slice(-4000)}`,
		);
	} finally {
		clearTimeout(timer);
	}
}
