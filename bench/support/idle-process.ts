/**
 * The reference processes of the memory benchmark, started like the daemon (bundled, plain `node`): `--kind node`
 * is a bare Node process kept alive by a timer, `--kind http2` a bare `node:http2` server listening on 127.0.0.1.
 * Each prints one JSON line `{"event":"ready","pid":…}` and idles until SIGTERM.
 */
import http2 from "node:http2";
import { parseArgs } from "node:util";

/** The line the parent waits for. */
export interface IdleReadyLine {
	readonly event: "ready";
	readonly pid: number;
}

const { values } = parseArgs({
	options: { kind: { type: "string", default: "node" } },
});
const ready = (): void => {
	const line: IdleReadyLine = { event: "ready", pid: process.pid };
	process.stdout.write(`${JSON.stringify(line)}\n`);
};
if (values.kind === "http2") {
	const server = http2.createServer();
	server.listen(0, "127.0.0.1", ready);
	process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else {
	const timer = setInterval(() => {}, 60_000);
	process.on("SIGTERM", () => {
		clearInterval(timer);
		process.exit(0);
	});
	ready();
}
