/**
 * @flagd-ts/provider in Bun (the npm `bun` binary): the package resolved through its `bun` export condition from
 * a consumer project's node_modules, against the real daemon on 127.0.0.1. Bun (JavaScriptCore) has no switch
 * that forbids code generation, so this run cannot prove the absence of `eval`; the Deno test and the bundle test
 * (edge-bundle.test.ts) do.
 */
import { describeCliRuntime } from "../support/describe-cli-runtime.js";

describeCliRuntime({
	title: "Bun",
	binary: "bun",
	scenarioFlags: [],
	exampleFlags: [],
});
