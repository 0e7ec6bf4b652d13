import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { pauseOptimizer, resumeOptimizer } from "./pause-optimizer.js";
import { runTsxChild } from "./testdata/run-tsx-child.js";

const CHILD = path.join(__dirname, "testdata", "pause-optimizer-child.ts");

/** Runs the child under tsx with V8's natives syntax. */
function runChild() {
	return runTsxChild(CHILD, ["--allow-natives-syntax"]);
}

describe("pauseOptimizer", () => {
	// In this process only the "operator decides" paths run: pausing would change the test process's V8.
	it.each([
		[["--jitless"], undefined],
		[["--no-turbofan"], undefined],
		[["--turbofan"], undefined],
		[["--no-opt"], undefined],
		[[], "--max-opt=2"],
		[[], "--inspect --turbo-filter=foo"],
		[["--maglev"], "--inspect"],
		[["--no_turbofan"], undefined],
		[["--always-turbofan"], undefined],
		[["--interrupt-budget=1000"], undefined],
	])(
		"leaves V8 alone when node flags decide about the optimizer (%j, NODE_OPTIONS %j)",
		(execArgv, nodeOptions) => {
			expect(pauseOptimizer(execArgv, nodeOptions)).toBe(false);
			resumeOptimizer(); // nothing paused: a no-op
		},
	);

	it("pauses TurboFan until resumed, then hot code is optimized as usual", async () => {
		const { code, out, err } = await runChild();
		expect({ code, err }).toEqual({ code: 0, err: "" });
		const result = JSON.parse(out) as Record<string, unknown>;
		// The control function got optimized; the paused one did not, with at least three times that work; after
		// the resume it did.
		expect(result.controlRounds).toEqual(expect.any(Number));
		expect(result.pausedNow).toBe(true);
		expect(result.whilePaused).toBeUndefined();
		expect(result.afterResume).toEqual(expect.any(Number));
	}, 60_000);
});
