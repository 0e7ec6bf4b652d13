/**
 * What the CLI touches outside itself, as one object so tests can run `main` in-process with their own streams and
 * event source. The defaults are the real process.
 */

export interface CliOutput {
	write(chunk: string): unknown;
	readonly isTTY?: boolean;
}

/** The part of `process` the CLI listens on: SIGTERM/SIGINT, uncaught errors. */
export interface CliEvents {
	on(event: string, listener: (...args: unknown[]) => void): unknown;
	off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface CliIo {
	readonly stdout: CliOutput;
	readonly stderr: CliOutput;
	/** @default process */
	readonly events?: CliEvents;
	/** Ends the process at once: used when a second signal arrives or shutdown hangs. @default process.exit */
	readonly forceExit?: (code: number) => void;
	/** Reads the --config file. @default fs.readFileSync(path, "utf8") */
	readonly readFile?: (path: string) => string;
	/** Hard cap on graceful shutdown before forcing exit 1. @default 15_000 */
	readonly shutdownTimeoutMs?: number;
}
