// `npm start`: run the daemon on the example flag file, from the TypeScript sources (tsx), so a fresh clone needs
// no build step. Extra arguments are passed to `flagd start` (e.g. `npm start -- -p 9013 --log-format json`).
// The daemon's output is passed through; once it logs "flagd started", this script prints where it listens and
// curl lines to try.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "packages/daemon/src/cli/main.ts");
const example = join(root, "docs/examples/flags.json");

function fail(message) {
	console.error(`npm start: ${message}`);
	process.exit(1);
}

if (!existsSync(cli)) fail(`the daemon sources are missing (${cli}).`);
if (!existsSync(join(root, "node_modules/tsx")))
	fail("dependencies are not installed: run `npm install` first.");
if (!existsSync(join(root, "packages/protocol/src/gen")))
	fail("the protobuf code is not generated: run `npm run generate` first.");

const args = [
	"--import",
	"tsx",
	cli,
	"start",
	"--uri",
	`file:${example}`,
	// Local only by default: a development daemon need not listen on every interface. A later
	// `--bind-address` from the command line wins.
	"--bind-address",
	"127.0.0.1",
	...process.argv.slice(2),
];
// The daemon gets its own process group: Ctrl+C in a terminal signals the whole foreground group (npm, sh, this
// script), and npm forwards signals as well, so the daemon would otherwise see two or three SIGINTs at once and take
// the later ones as "force exit". This script forwards exactly one signal per Ctrl+C instead (below).
const child = spawn(process.execPath, args, {
	stdio: ["inherit", "pipe", "inherit"],
	cwd: root,
	detached: true,
});

/** The service addresses from the daemon's "flagd started" record, console or JSON format. */
function startedAddresses(line) {
	if (!line.includes("flagd started")) return undefined;
	try {
		const record = JSON.parse(line);
		if (record.msg === "flagd started") return record;
	} catch {
		// Console format: `<time>  INFO   flagd started  evaluation=http://…  management=…`.
	}
	return Object.fromEntries(
		[...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]),
	);
}

/**
 * The curl command for a URL. `-sS`: quiet, but errors are shown. Over https the daemon usually serves a development
 * certificate curl does not trust, so the line adds `-k` (skip verification: fine for a local daemon; with a
 * certificate from a CA curl trusts, or `--cacert <ca file>`, drop it).
 */
function curlFor(url) {
	return url?.startsWith("https:") ? "curl -sS -k" : "curl -sS";
}

function printHints(addresses) {
	const { evaluation, management, sync, ofrep } = addresses;
	const context = '{"context":{"email":"me@example.com"}}';
	const lines = [
		"",
		"flagd is running on docs/examples/flags.json (Ctrl+C stops it):",
		`  evaluation (gRPC, gRPC-web, Connect)    ${evaluation}`,
		`  OFREP                                   ${ofrep}`,
		`  sync (gRPC flagd.sync.v1)               ${sync}`,
		`  management (/healthz /readyz /metrics)  ${management}`,
		"",
		"Try:",
		`  ${curlFor(ofrep)} -X POST ${ofrep}/ofrep/v1/evaluate/flags/show-welcome-banner -H 'Content-Type: application/json' -d '${context}'`,
	];
	if (evaluation?.startsWith("http")) {
		lines.push(
			`  ${curlFor(evaluation)} -X POST ${evaluation}/flagd.evaluation.v1.Service/ResolveAll -H 'Content-Type: application/json' -d '${context}'`,
		);
	}
	lines.push("");
	process.stdout.write(`${lines.join("\n")}\n`);
}

let hinted = false;
createInterface({ input: child.stdout }).on("line", (line) => {
	process.stdout.write(`${line}\n`);
	if (hinted) return;
	const addresses = startedAddresses(line);
	if (addresses !== undefined) {
		hinted = true;
		printHints(addresses);
	}
});

// Forward Ctrl+C / SIGTERM to the daemon so it shuts down gracefully; its exit code becomes ours. Copies of one
// signal arriving together (terminal + npm) are forwarded once; a signal sent later (a second Ctrl+C) is forwarded
// too, and the daemon takes it as "exit now".
const DUPLICATE_WINDOW_MS = 500;
let lastForwardedAt = Number.NEGATIVE_INFINITY;
for (const signal of ["SIGINT", "SIGTERM"]) {
	process.on(signal, () => {
		const now = Date.now();
		if (now - lastForwardedAt < DUPLICATE_WINDOW_MS) return;
		lastForwardedAt = now;
		child.kill(signal);
	});
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// If this script ends for any other reason, do not leave the (detached) daemon running.
process.on("exit", () => {
	if (child.exitCode === null && child.signalCode === null)
		child.kill("SIGTERM");
});
