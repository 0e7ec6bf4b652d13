#!/usr/bin/env node
/**
 * The `flagd` command: `flagd start [flags]`, `flagd version`, `flagd help`. Importing this file has no side effects
 * (tests call `main`); it runs only when it is the process's entry point. This is the only file that calls
 * process.exit.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pauseOptimizer } from "../runtime/pause-optimizer.js";
import { capYoungGeneration } from "../runtime/young-generation.js";
import type { CliIo } from "./cli-io.js";
import { formatRootHelp, formatStartHelp } from "./help-text.js";
import { formatVersion } from "./package-info.js";
import { runStart } from "./run-start.js";

export type { CliEvents, CliIo, CliOutput } from "./cli-io.js";

const HELP = new Set(["-h", "--help"]);

/** Global flags (cobra persistent flags) a user may put before the command: `flagd --debug start`. */
function splitGlobals(argv: readonly string[]): {
	globals: string[];
	rest: string[];
} {
	const globals: string[] = [];
	let i = 0;
	while (i < argv.length) {
		const arg = argv[i] as string;
		if (
			arg === "-x" ||
			arg === "--debug" ||
			arg.startsWith("--debug=") ||
			arg.startsWith("--config=")
		) {
			globals.push(arg);
			i++;
		} else if (arg === "--config" && i + 1 < argv.length) {
			globals.push(arg, argv[i + 1] as string);
			i += 2;
		} else {
			break;
		}
	}
	return { globals, rest: argv.slice(i) };
}

function wantsHelp(args: readonly string[]): boolean {
	const end = args.indexOf("--");
	return (end === -1 ? args : args.slice(0, end)).some((a) => HELP.has(a));
}

/**
 * Runs the CLI with `argv` (the arguments after the script: `["start", "-p", "0"]`) and resolves with the exit
 * code. `start` resolves only after the daemon has shut down.
 */
export async function main(
	argv: readonly string[],
	env: Readonly<Record<string, string | undefined>>,
	io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
	const { globals, rest } = splitGlobals(argv);
	const [command, ...args] = rest;
	if (command === undefined || HELP.has(command)) {
		io.stdout.write(formatRootHelp());
		return 0;
	}
	switch (command) {
		case "start":
			if (wantsHelp(args)) {
				io.stdout.write(formatStartHelp());
				return 0;
			}
			return runStart([...globals, ...args], env, io);
		case "version":
		case "--version":
			io.stdout.write(formatVersion());
			return 0;
		case "help":
			io.stdout.write(
				args[0] === "start" ? formatStartHelp() : formatRootHelp(),
			);
			return 0;
		default:
			io.stderr.write(
				`flagd: unknown command "${command}"\nRun "flagd --help" for usage.\n`,
			);
			return 1;
	}
}

function isEntryPoint(): boolean {
	const script = process.argv[1];
	if (script === undefined) return false;
	try {
		return (
			realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
		);
	} catch {
		// argv[1] is not a file we can resolve (e.g. `node -e`): then this module was imported, not run.
		return false;
	}
}

if (isEntryPoint()) {
	// Before anything grows the heap: see runtime/young-generation.ts (the documented memory/throughput trade).
	capYoungGeneration();
	// Module loading runs without TurboFan; run-start.ts resumes it once the services are loaded (pause-optimizer.ts).
	pauseOptimizer();
	// A reader that goes away (`flagd start | head -3`) must not take the daemon down: later log lines are lost,
	// serving goes on. Other stdout errors are reported on stderr.
	process.stdout.on("error", (e: NodeJS.ErrnoException) => {
		if (e.code !== "EPIPE")
			process.stderr.write(`flagd: cannot write logs: ${e.message}\n`);
	});
	void main(process.argv.slice(2), process.env).then(
		(code) => process.exit(code),
		(e: unknown) => {
			process.stderr.write(
				`flagd: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
			);
			process.exit(1);
		},
	);
}
