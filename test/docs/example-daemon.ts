/**
 * A daemon for pages whose samples only need "a daemon on FLAGD_HOST:FLAGD_PORT" (the page does not tell the reader
 * how to start it, so the test may): the real CLI (`flagd start`, from the sources through tsx) in a child process,
 * on a private copy of docs/examples/flags.json that tests may edit, on 127.0.0.1 and free ports.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./doc-blocks.js";
import { type ServicePorts, waitForDaemon } from "./doc-daemon.js";
import { ShellProcess } from "./shell-process.js";

export interface ExampleDaemon {
	readonly flagFile: string;
	/** Ports of the running daemon; the evaluation port stays the same across restart(). */
	readonly ports: ServicePorts;
	/** Stops the daemon gracefully (SIGTERM) and waits for it to exit. */
	stop(): Promise<void>;
	/** Starts it again on the same evaluation port (after stop()). */
	restart(): Promise<void>;
	/** Stops the daemon and removes the flag file copy. */
	dispose(): Promise<void>;
}

/** `port`: the evaluation port to listen on. @default 0 (a free port) */
export async function startExampleDaemon(
	options: { readonly port?: number } = {},
): Promise<ExampleDaemon> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "docs-daemon-"));
	const flagFile = path.join(dir, "flags.json");
	copyFileSync(path.join(REPO_ROOT, "docs/examples/flags.json"), flagFile);
	let shell: ShellProcess | undefined;
	let ports: ServicePorts | undefined;
	const start = async (): Promise<void> => {
		const cli = path.join(REPO_ROOT, "packages/daemon/src/cli/main.ts");
		shell = new ShellProcess(
			`exec node --import tsx '${cli}' start --uri 'file:${flagFile}' --bind-address 127.0.0.1 -p ${ports?.evaluation ?? options.port ?? 0} -m 0 -g 0 -r 0`,
		);
		ports = await waitForDaemon(shell);
	};
	const stop = async (): Promise<void> => {
		await shell?.stop();
	};
	await start();
	return {
		flagFile,
		get ports() {
			if (ports === undefined) throw new Error("example daemon not started");
			return ports;
		},
		stop,
		restart: start,
		dispose: async () => {
			await stop();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
