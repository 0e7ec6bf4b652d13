// Stand-in for packages/daemon/dist/cli/main.js in test/packaging/bin-link.test.ts: prints what a CLI entry point sees.
process.stdout.write(
	JSON.stringify({ entry: process.argv[1], args: process.argv.slice(2) }),
);
