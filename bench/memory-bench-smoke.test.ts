/**
 * Smoke run of the memory benchmark (bench/support/memory-suite.ts), so it cannot rot: three processes started,
 * read from /proc and stopped, in a few seconds.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { removeBundles } from "./support/child-process.js";
import { runMemory } from "./support/memory-suite.js";

afterAll(() => removeBundles());

describe("memory benchmark (smoke)", () => {
	it("reads the idle RSS of the daemon, the flagd CLI and both bare processes", async () => {
		const suite = await runMemory({ smoke: true });
		const { samples } = suite.data as {
			samples: Record<
				string,
				{ earlyRssBytes: number[]; idleRssBytes: number[] }
			>;
		};
		expect(Object.keys(samples).sort()).toEqual([
			"cli",
			"daemon",
			"http2",
			"node",
		]);
		for (const sample of Object.values(samples)) {
			expect(sample.earlyRssBytes).toHaveLength(1);
			expect(sample.idleRssBytes[0]).toBeGreaterThan(10 * 1024 * 1024);
		}
		expect(suite.targets).toHaveLength(2);
	}, 60_000);
});
