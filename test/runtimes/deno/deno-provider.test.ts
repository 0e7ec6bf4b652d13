/**
 * @flagd-ts/provider in Deno 2 (the npm `deno` binary): the package resolved through its `deno` export condition
 * from a consumer project's node_modules, against the real daemon on 127.0.0.1. Deno runs with network access to
 * 127.0.0.1 only, no environment or file permissions, and V8's `--disallow-code-generation-from-strings` (as
 * Workers and Vercel Edge do), so any `eval`/`new Function` on the way fails the run.
 */
import { describeCliRuntime } from "../support/describe-cli-runtime.js";

const NO_CODE_GENERATION = "--v8-flags=--disallow-code-generation-from-strings";

describeCliRuntime({
	title: "Deno",
	binary: "deno",
	scenarioFlags: ["--allow-net=127.0.0.1", NO_CODE_GENERATION],
	exampleFlags: [
		"--allow-net=127.0.0.1",
		"--allow-env=FLAGD_HOST,FLAGD_PORT,PORT",
		NO_CODE_GENERATION,
	],
});
