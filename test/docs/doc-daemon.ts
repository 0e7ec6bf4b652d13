/**
 * The daemon a reader starts with a shell block (`npm start`, `flagd start …`), found through the "flagd started"
 * line it logs.
 */
import type { ShellProcess } from "./shell-process.js";

/**
 * Environment that makes a documented `npm start` / `flagd start` (which sets no ports) listen on free ports:
 * the daemon reads `FLAGD_*` variables, a documented alternative to flags.
 */
export const FREE_PORTS_ENV: Readonly<Record<string, string>> = {
	FLAGD_PORT: "0",
	FLAGD_MANAGEMENT_PORT: "0",
	FLAGD_SYNC_PORT: "0",
	FLAGD_OFREP_PORT: "0",
};

export interface ServicePorts {
	readonly evaluation: number;
	readonly management: number;
	readonly sync: number;
	readonly ofrep: number;
}

/** Waits for the daemon's "flagd started" and "flagd ready" lines and returns the ports it logged. */
export async function waitForDaemon(
	shell: ShellProcess,
	timeoutMs = 15_000,
): Promise<ServicePorts> {
	const [line] = await shell.waitFor(/flagd started[^\n]*\n/, timeoutMs);
	await shell.waitFor(/flagd ready/, timeoutMs);
	const ports: Record<string, number> = {};
	for (const m of line.matchAll(/(\w+)=\w+:\/\/[^\s]*:(\d+)/g)) {
		ports[m[1] ?? ""] = Number(m[2]);
	}
	const { evaluation, management, sync, ofrep } = ports;
	if (
		evaluation === undefined ||
		management === undefined ||
		sync === undefined ||
		ofrep === undefined
	) {
		throw new Error(`cannot read the ports from: ${line}`);
	}
	return { evaluation, management, sync, ofrep };
}

/**
 * Added to the environment of the Node examples: a first evaluation against a daemon that has just started can
 * take longer than the default 500 ms deadline on a loaded 2-core CI machine. `FLAGD_DEADLINE_MS` is a documented
 * provider variable, so the commands stay as the docs show them.
 */
export const SLOW_MACHINE_ENV: Readonly<Record<string, string>> = {
	FLAGD_DEADLINE_MS: "5000",
};
