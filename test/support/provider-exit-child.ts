/**
 * Child process for the "nothing keeps the process alive after onClose()" test: connects a FlagdProvider to the
 * flagd given on the command line (port and transport), evaluates once, closes it, and then simply ends. It never
 * calls process.exit, so the parent can tell whether a leftover timer, stream or socket kept it running.
 */
import { FlagdProvider } from "@flagd-ts/provider";

const port = Number(process.argv[2]);
const transport = process.argv[3] === "connect" ? "connect" : "grpc";
const httpVersion = process.argv[4] === "1.1" ? "1.1" : "2";
const provider = new FlagdProvider({
	host: "127.0.0.1",
	port,
	transport,
	httpVersion,
	keepAliveTime: 50,
	// Not a deadline test: the first connection may take over the default 500 ms on a busy machine.
	deadlineMs: 10_000,
	env: {},
});
await provider.initialize();
const details = await provider.resolveBooleanEvaluation("bool-flag", false, {
	targetingKey: "x",
});
await provider.onClose();
process.stdout.write(`closed ${details.value}\n`);
