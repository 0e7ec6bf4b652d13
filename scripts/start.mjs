// `npm start`: run the daemon on the example flag file, from the TypeScript sources (tsx), so a fresh clone needs
// no build step. Extra arguments are passed to `flagd start`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "packages/daemon/src/cli.ts");
const example = join(root, "docs/examples/flags.json");

if (!existsSync(cli)) {
	console.error(
		`npm start: the daemon is not built yet (${cli} does not exist).`,
	);
	process.exit(1);
}
const args = [
	"--import",
	"tsx",
	cli,
	"start",
	"--uri",
	`file:${example}`,
	...process.argv.slice(2),
];
const child = spawn(process.execPath, args, { stdio: "inherit", cwd: root });
for (const signal of ["SIGINT", "SIGTERM"])
	process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
