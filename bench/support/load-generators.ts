/**
 * The native load generators: wrk (HTTP/1.1) and h2load (nghttp2-client: h2c, gRPC over h2c, and HTTP/1.1 POSTs
 * with `--h1 -d`). Both run as separate processes so the measured server never shares a core's event loop with
 * the client. Every run's errors are checked: a run with failed requests or non-2xx answers throws, because its
 * requests/s would measure an error path.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

export type LoadTool = "wrk" | "h2load";

const DEBIAN_PACKAGE: Record<LoadTool, string> = {
	wrk: "wrk",
	h2load: "nghttp2-client",
};

function isInstalled(tool: LoadTool): boolean {
	const probe = spawnSync(tool, ["--version"], { stdio: "ignore" });
	return probe.error === undefined;
}

/**
 * Returns which tools are present; with `install`, first installs the missing ones from Debian's packages
 * (`apt-get update && apt-get install -y wrk nghttp2-client`; needs root) and reports the outcome on stderr.
 */
export function ensureLoadGenerators(
	install: boolean,
): Record<LoadTool, boolean> {
	const tools: LoadTool[] = ["wrk", "h2load"];
	const missing = tools.filter((tool) => !isInstalled(tool));
	if (missing.length > 0 && install) {
		const packages = missing.map((tool) => DEBIAN_PACKAGE[tool]);
		process.stderr.write(
			`bench: installing ${packages.join(", ")} with apt-get\n`,
		);
		const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
		const add =
			update.status === 0
				? spawnSync("apt-get", ["install", "-y", ...packages], {
						stdio: "inherit",
					})
				: update;
		if (add.status !== 0)
			process.stderr.write(
				`bench: apt-get failed (${add.error?.message ?? `exit ${add.status}`}); install ${packages.join(" ")} by hand\n`,
			);
	}
	return { wrk: isInstalled("wrk"), h2load: isInstalled("h2load") };
}

/** One load run's outcome. */
export interface LoadResult {
	readonly tool: LoadTool;
	readonly requestsPerSec: number;
	readonly completed: number;
}

/** A load run that has not finished after this long is stuck (server stalled): killed and reported. */
const RUN_TIMEOUT_MS = 120_000;

function run(command: string, args: readonly string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(
				new Error(
					`${command} ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`,
				),
			);
		}, RUN_TIMEOUT_MS);
		let out = "";
		child.stdout.on("data", (chunk: Buffer) => {
			out += chunk.toString("utf8");
		});
		child.stderr.on("data", (chunk: Buffer) => {
			out += chunk.toString("utf8");
		});
		child.once("error", (e) => {
			clearTimeout(timer);
			reject(new Error(`${command} failed to start: ${e.message}`));
		});
		child.once("close", (code) => {
			clearTimeout(timer);
			if (code === 0) resolve(out);
			else
				reject(
					new Error(`${command} ${args.join(" ")} exited ${code}:\n${out}`),
				);
		});
	});
}

function numberAfter(text: string, pattern: RegExp, what: string): number {
	const match = pattern.exec(text);
	if (match === null || match[1] === undefined)
		throw new Error(`cannot read ${what} from load generator output:\n${text}`);
	return Number(match[1]);
}

export interface WrkOptions {
	readonly url: string;
	readonly durationS: number;
	readonly connections: number;
	/** POST this JSON body (wrk needs a Lua script for that; written to `scriptPath`). */
	readonly postJson?: {
		readonly body: string;
		readonly scriptPath: string;
		readonly headers?: Record<string, string>;
	};
}

/** wrk with one thread (the daemon has one event loop; the other core is the generator's). */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
	const args = [
		"-t1",
		`-c${options.connections}`,
		`-d${Math.max(1, Math.round(options.durationS))}s`,
		// wrk's default 2 s counts a slow answer as a socket error; on a busy shared machine a slow server is a result.
		"--timeout",
		"10s",
	];
	if (options.postJson !== undefined) {
		const { body, scriptPath, headers = {} } = options.postJson;
		if (body.includes("]==]"))
			throw new Error("body cannot be embedded in a Lua long string");
		const lines = [
			'wrk.method = "POST"',
			`wrk.body = [==[${body}]==]`,
			'wrk.headers["Content-Type"] = "application/json"',
			...Object.entries(headers).map(
				([name, value]) =>
					`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
			),
		];
		writeFileSync(scriptPath, `${lines.join("\n")}\n`);
		args.push("-s", scriptPath);
	}
	args.push(options.url);
	const out = await run("wrk", args);
	const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
	if (non2xx !== null)
		throw new Error(`wrk saw ${non2xx[1]} non-2xx responses:\n${out}`);
	const socket =
		/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
			out,
		);
	if (socket?.slice(1).some((n) => Number(n) > 0))
		throw new Error(`wrk saw socket errors:\n${out}`);
	return {
		tool: "wrk",
		requestsPerSec: numberAfter(
			out,
			/Requests\/sec:\s+([\d.]+)/,
			"Requests/sec",
		),
		completed: numberAfter(out, /(\d+) requests in/, "request count"),
	};
}

export interface H2loadOptions {
	readonly url: string;
	/** Timed run (`-D`); else `requests` is used. */
	readonly durationS?: number;
	readonly requests?: number;
	readonly clients: number;
	/** Streams in flight per connection (HTTP/2). */
	readonly streams: number;
	/** POST this file's bytes. */
	readonly dataFile?: string;
	readonly headers?: Record<string, string>;
	/** Force HTTP/1.1 (one request in flight per connection when POSTing). */
	readonly h1?: boolean;
}

/** h2load, one thread. */
export async function runH2load(options: H2loadOptions): Promise<LoadResult> {
	const args = ["-t1", `-c${options.clients}`, `-m${options.streams}`];
	if (options.durationS !== undefined) {
		// h2load takes integer durations with a unit ("1.5" is a value error).
		args.push(
			`-D${Math.round(options.durationS * 1000)}ms`,
			"--warm-up-time=300ms",
		);
	} else {
		args.push(`-n${options.requests ?? 1000}`);
	}
	if (options.h1 === true) args.push("--h1");
	if (options.dataFile !== undefined) args.push("-d", options.dataFile);
	for (const [name, value] of Object.entries(options.headers ?? {}))
		args.push("-H", `${name}: ${value}`);
	args.push(options.url);
	const out = await run("h2load", args);
	const failed = numberAfter(out, /(\d+) failed/, "failed count");
	const errored = numberAfter(out, /(\d+) errored/, "errored count");
	const non2xx = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(
		out,
	);
	const bad =
		non2xx === null
			? 0
			: non2xx.slice(1).reduce((sum, n) => sum + Number(n), 0);
	if (failed + errored + bad > 0)
		throw new Error(
			`h2load saw ${failed} failed, ${errored} errored, ${bad} non-2xx:\n${out}`,
		);
	return {
		tool: "h2load",
		requestsPerSec: numberAfter(
			out,
			/finished in [\d.]+m?s, ([\d.]+) req\/s/,
			"req/s",
		),
		completed: numberAfter(out, /(\d+) succeeded/, "succeeded count"),
	};
}
