import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { runTsxChild } from "./testdata/run-tsx-child.js";
import {
	YOUNG_GENERATION_FLAG,
	YOUNG_GENERATION_LIFTED_FLAG,
} from "./young-generation.js";
import {
	resolveYoungGenerationGovernorConfig,
	YoungGenerationGovernor,
} from "./young-generation-governor.js";

const CHILD = path.join(__dirname, "testdata", "young-generation-child.ts");

/** A governor on a hand-driven clock and request count, recording the V8 flags it would set. */
function governed(
	options: { settleIntervals?: number; sustainIntervals?: number } = {},
) {
	const state = { requests: 0, clock: 0, flags: [] as string[] };
	const governor = new YoungGenerationGovernor({
		requestCount: () => state.requests,
		now: () => state.clock,
		setFlags: (flag) => state.flags.push(flag),
		intervalMs: 3_600_000, // read by hand
		...options,
	});
	/** `count` requests over `ms`, then one reading. */
	const pass = (count: number, ms = 1_000) => {
		state.requests += count;
		state.clock += ms;
		governor.read();
	};
	return { state, governor, pass };
}

describe("YoungGenerationGovernor", () => {
	it("lifts the cap after sustained load, keeps it through short lulls, restores it after the quiet readings", () => {
		const { state, governor, pass } = governed({ settleIntervals: 3 });
		pass(1_999);
		expect(state.flags).toEqual([]);
		// One busy second is a burst: the next reading must be busy too.
		pass(5_000);
		pass(1_999);
		expect(state.flags).toEqual([]);
		pass(2_000);
		expect(state.flags).toEqual([]);
		pass(2_000);
		expect(state.flags).toEqual([YOUNG_GENERATION_LIFTED_FLAG]);
		expect(governor.lifted).toBe(true);
		// Two quiet readings, then load again: the count of quiet readings starts over.
		pass(10);
		pass(10);
		pass(1_000); // half the lift rate counts as load
		pass(10);
		pass(10);
		expect(governor.lifted).toBe(true);
		pass(10);
		expect(state.flags).toEqual([
			YOUNG_GENERATION_LIFTED_FLAG,
			YOUNG_GENERATION_FLAG,
		]);
		expect(governor.lifted).toBe(false);
		governor.stop();
		expect(state.flags).toHaveLength(2);
	});

	it("reads the rate over the time that really passed (a late timer is not a burst)", () => {
		const { state, pass } = governed({ sustainIntervals: 1 });
		pass(3_000, 2_000); // 1,500 per second
		expect(state.flags).toEqual([]);
		pass(5_000, 2_000); // 2,500 per second
		expect(state.flags).toEqual([YOUNG_GENERATION_LIFTED_FLAG]);
		// No time passed: no reading.
		pass(1_000_000, 0);
		expect(state.flags).toHaveLength(1);
	});

	it("restores the cap when stopped while lifted", () => {
		const { state, governor, pass } = governed();
		pass(10_000);
		pass(10_000);
		governor.stop();
		expect(state.flags).toEqual([
			YOUNG_GENERATION_LIFTED_FLAG,
			YOUNG_GENERATION_FLAG,
		]);
		expect(governor.lifted).toBe(false);
	});

	it("names a bad option", () => {
		expect(() =>
			resolveYoungGenerationGovernorConfig({
				requestCount: () => 0,
				liftAtRequestsPerSec: 0,
			}),
		).toThrow("liftAtRequestsPerSec must be a positive number, got 0");
		expect(() =>
			resolveYoungGenerationGovernorConfig({
				requestCount: () => 0,
				intervalMs: Number.NaN,
			}),
		).toThrow("intervalMs must be a positive number");
	});

	it("in a real process the cap holds the semi-spaces and lifting it lets V8 grow them", async () => {
		const { code, out, err } = await runTsxChild(CHILD);
		expect({ code, err }).toEqual({ code: 0, err: "" });
		const r = JSON.parse(out) as Record<string, number | boolean>;
		expect(r).toMatchObject({
			capped: true,
			cappedFlag: true,
			liftedNow: true,
			restored: true,
		});
		const MiB = 1024 * 1024;
		// Capped, the young generation keeps the size it had at start (1-2 MiB per semi-space; new_space's size counts
		// both) under the same work that grows it towards V8's 16 MiB maximum once lifted.
		expect(r.whileCapped as number).toBeLessThanOrEqual(r.atStart as number);
		expect(r.whileLifted as number).toBeGreaterThanOrEqual(
			Math.max(8 * MiB, 2 * (r.atStart as number)),
		);
	}, 60_000);
});
