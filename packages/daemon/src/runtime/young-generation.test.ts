import { describe, expect, it } from "@jest/globals";
import { capYoungGeneration } from "./young-generation.js";

describe("capYoungGeneration", () => {
	// Only the "operator decides" paths run here: applying the flag would change this test process's V8.
	it.each([
		[["--max-semi-space-size=16"], undefined],
		[["--max_semi_space_size", "16"], undefined],
		[[], "--optimize-for-size"],
		[[], "--inspect --semi-space-growth-factor=2"],
		[["--min-semi-space-size=4"], "--inspect"],
	])(
		"leaves V8 alone when node flags tune the young generation (%j, NODE_OPTIONS %j)",
		(execArgv, nodeOptions) => {
			expect(capYoungGeneration(execArgv, nodeOptions)).toBe(false);
		},
	);
});
