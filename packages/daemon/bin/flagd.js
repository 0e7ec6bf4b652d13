#!/usr/bin/env node
// The `flagd` command npm links into node_modules/.bin. It is a committed file rather than dist/cli/main.js itself: npm
// links a bin at install time only when its file exists, so a bin pointing into dist/ stayed unlinked in a fresh
// clone until a second `npm install` after the build. This file exists from the start; it runs the built CLI.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (!existsSync(cli)) {
	process.stderr.write(
		"flagd: the daemon is not built yet; run `npm run build` first\n",
	);
	process.exit(1);
}
// dist/cli/main.js runs only as the process's entry point (importing it has no side effects): make it that.
process.argv[1] = cli;
await import(new URL("../dist/cli/main.js", import.meta.url).href);
