/**
 * `flagd start` options every test or benchmark that runs the CLI passes: each of the four ports picked free by the
 * OS, so runs on one machine never collide, and every listener on loopback only (tests talk to 127.0.0.1 alone).
 */

/** `-p -m -g -r`: the evaluation, management, sync and OFREP ports; the evaluation port 0 (free) unless given. */
export function freePortArgs(evaluationPort = 0): string[] {
	return ["-p", String(evaluationPort), "-m", "0", "-g", "0", "-r", "0"];
}

/** freePortArgs() with every listener bound to 127.0.0.1. */
export function loopbackDaemonArgs(evaluationPort = 0): string[] {
	return ["--bind-address", "127.0.0.1", ...freePortArgs(evaluationPort)];
}
