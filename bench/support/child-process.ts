/**
 * Starts a bench/support entry script in its own Node process and waits for its one-line JSON "ready" report on
 * stdout. stop() sends SIGTERM and waits for the exit (SIGKILL after a bound), so no benchmark leaves a process.
 *
 * By default the script is first bundled with esbuild (as scripts/bundle-daemon.mjs ships the daemon: one ESM
 * file, workspace packages resolved through tsconfig paths, not minified so profiles keep names) and run with
 * plain `node`: that is the production shape, without tsx's loader in the measured process (tsx alone adds about
 * 100 MB of RSS). `runner: "tsx"` runs the TypeScript source instead (`node --import tsx`), which keeps real file
 * paths in `--cpu-prof` profiles.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
	existsSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { build, stop as stopEsbuild } from "esbuild";

/**
 * The repo root. Benchmarks run with cwd = repo root (scripts/bench.mjs and Jest both do); import.meta is not
 * used because Jest runs this code as CommonJS.
 */
export const REPO_ROOT = process.cwd();

export interface ChildOptions {
	/** Script path relative to the repo root. */
	readonly script: string;
	readonly args?: readonly string[];
	/** Extra node flags (`--cpu-prof`, `--expose-gc`, …) before `--import tsx`. */
	readonly nodeArgs?: readonly string[];
	/** How long to wait for the ready line. @default 30_000 */
	readonly startTimeoutMs?: number;
	/** @default "bundle" */
	readonly runner?: "bundle" | "tsx";
	/** Variables added to this process's environment for the child (e.g. gc-tally.ts's gcTallyEnv()). */
	readonly env?: Readonly<Record<string, string>>;
	/**
	 * A command that runs node, with its arguments (e.g. `["valgrind", "--tool=callgrind"]`, instruction-count.ts):
	 * the child is then that command with node's command line after it. @default none (node itself)
	 */
	readonly wrapper?: readonly string[];
}

const bundles = new Map<string, Promise<string>>();
let bundleDir: string | undefined;

/**
 * Removes this process's bundles. Runs on process exit; Jest's sandboxed `process` does not relay that event, so
 * tests call it from afterAll.
 */
export function removeBundles(): void {
	// esbuild's JS API keeps a service child process alive; stopping it lets a Jest run (in-band here) exit.
	void stopEsbuild();
	if (bundleDir === undefined) return;
	rmSync(bundleDir, { recursive: true, force: true });
	bundleDir = undefined;
	bundles.clear();
}

/** Bundles `script` once per benchmark process (see removeBundles). */
function bundle(script: string): Promise<string> {
	const cached = bundles.get(script);
	if (cached !== undefined) return cached;
	if (bundleDir === undefined) {
		bundleDir = mkdtempSync(path.join(os.tmpdir(), "flagd-ts-bench-bundles-"));
		process.once("exit", removeBundles);
	}
	// Numbered: two checkouts' scripts of the same name (daemon-variants-ab.ts) get a bundle each.
	const outfile = path.join(
		bundleDir,
		`${path.basename(script, ".ts")}-${bundles.size}.mjs`,
	);
	const made = build({
		entryPoints: [script],
		outfile,
		bundle: true,
		platform: "node",
		target: "node20",
		format: "esm",
		minify: false,
		tsconfig: path.join(REPO_ROOT, "tsconfig.json"),
		external: [
			"@kubernetes/client-node",
			"@aws-sdk/client-s3",
			"@google-cloud/storage",
			"@azure/storage-blob",
		],
		// ESM output has no require(); bundled CommonJS dependencies call it for Node built-ins.
		banner: {
			js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
		},
		logLevel: "warning",
	}).then(() => {
		asciiComments(outfile);
		return outfile;
	});
	bundles.set(script, made);
	return made;
}

/**
 * Unminified output keeps some comments, and one non-ASCII character in them makes V8 hold the whole bundle as
 * UTF-16 (twice its size in the heap; scripts/bundle-daemon.mjs ships an ASCII-only file). esbuild escapes every
 * non-ASCII character in code (its default `charset`), so what is left is in comments: replaced by `?`.
 */
function asciiComments(file: string): void {
	const text = readFileSync(file, "utf8");
	// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "anything beyond ASCII"
	const ascii = text.replace(/[^\u0000-\u007f]/g, "?");
	if (ascii !== text) writeFileSync(file, ascii);
}

export interface RunningChild<T> {
	readonly pid: number;
	readonly ready: T;
	/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal name). */
	stop(graceMs?: number): Promise<number | string>;
	/** Sends `signal` and resolves with the next JSON line whose `event` is `event` (bounded by `timeoutMs`). */
	signalAndWait(
		signal: NodeJS.Signals,
		event: string,
		timeoutMs?: number,
	): Promise<unknown>;
}

/** See the file comment. */
export async function startChild<T>(
	options: ChildOptions,
): Promise<RunningChild<T>> {
	const script = path.join(REPO_ROOT, options.script);
	if (!existsSync(script))
		throw new Error(`${script} not found: run benchmarks from the repo root`);
	const entry =
		options.runner === "tsx"
			? ["--import", "tsx", script]
			: [await bundle(script)];
	const nodeLine = [
		...(options.nodeArgs ?? []),
		...entry,
		...(options.args ?? []),
	];
	const [command, ...wrapperArgs] = options.wrapper ?? [process.execPath];
	const child: ChildProcess = spawn(
		command as string,
		options.wrapper === undefined
			? nodeLine
			: [...wrapperArgs, process.execPath, ...nodeLine],
		{
			cwd: REPO_ROOT,
			stdio: ["ignore", "pipe", "inherit"],
			...(options.env === undefined
				? {}
				: { env: { ...process.env, ...options.env } }),
		},
	);
	const exited = new Promise<number | string>((resolve) => {
		child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
	});
	const stop = async (graceMs = 10_000): Promise<number | string> => {
		if (child.exitCode !== null || child.signalCode !== null) return exited;
		child.kill("SIGTERM");
		const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
		const result = await exited;
		clearTimeout(timer);
		return result;
	};
	return new Promise((resolve, reject) => {
		const stdout = child.stdout;
		if (stdout === null) {
			reject(new Error(`${options.script}: no stdout pipe`));
			return;
		}
		const lines = createInterface({ input: stdout });
		const timeoutMs = options.startTimeoutMs ?? 30_000;
		const timer = setTimeout(() => {
			void stop(0);
			reject(new Error(`${options.script} not ready within ${timeoutMs} ms`));
		}, timeoutMs);
		child.once("error", (e) => {
			clearTimeout(timer);
			reject(new Error(`${options.script} failed to spawn: ${e.message}`));
		});
		void exited.then((code) => {
			clearTimeout(timer);
			reject(
				new Error(`${options.script} exited (${code}) before it was ready`),
			);
		});
		const waiters = new Map<string, (value: unknown) => void>();
		const signalAndWait = (
			signal: NodeJS.Signals,
			event: string,
			waitMs = 10_000,
		): Promise<unknown> =>
			new Promise((resolveLine, rejectLine) => {
				const bound = setTimeout(() => {
					waiters.delete(event);
					rejectLine(
						new Error(
							`${options.script}: no "${event}" line within ${waitMs} ms after ${signal}`,
						),
					);
				}, waitMs);
				waiters.set(event, (value) => {
					clearTimeout(bound);
					resolveLine(value);
				});
				child.kill(signal);
			});
		lines.on("line", (line) => {
			let parsed: unknown;
			try {
				parsed = JSON.parse(line);
			} catch {
				process.stderr.write(`${options.script}: ${line}\n`);
				return;
			}
			const event = (parsed as { event?: unknown }).event;
			const waiter = typeof event === "string" ? waiters.get(event) : undefined;
			if (waiter !== undefined && typeof event === "string") {
				waiters.delete(event);
				waiter(parsed);
				return;
			}
			if (event !== "ready") return;
			clearTimeout(timer);
			const pid = child.pid;
			if (pid === undefined) {
				reject(new Error(`${options.script}: no pid`));
				return;
			}
			resolve({ pid, ready: parsed as T, stop, signalAndWait });
		});
	});
}
