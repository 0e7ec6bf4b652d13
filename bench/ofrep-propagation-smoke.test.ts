// The OFREP propagation benchmark in smoke mode (seconds), so it cannot rot: a real daemon process, a real flag
// file and real SSE clients. No performance thresholds (the 2-core machine is shared and noisy), only that every
// measurement ran and is sane. Full run: `npm run bench -- ofrep-propagation`.
import { afterAll, describe, expect, it } from "@jest/globals";
import { removeBundles } from "./support/child-process.js";
import { runOfrepPropagation } from "./support/ofrep-propagation-suite.js";

afterAll(() => {
	removeBundles();
});

describe("ofrep-propagation bench (smoke)", () => {
	it("measures propagation to OFREP SSE subscribers", async () => {
		const suite = await runOfrepPropagation({ smoke: true });
		const rows = suite.tables[0]?.rows ?? [];
		expect(rows.map((r) => r[0])).toEqual(["1", "100"]);
		for (const row of rows) {
			const p50 = Number(row[2]);
			// A change takes a read, a parse and a write to every subscriber, never seconds for 100 local subscribers.
			expect(p50).toBeGreaterThan(0);
			expect(p50).toBeLessThan(5_000);
		}
		expect(suite.targets).toHaveLength(2);
		expect(suite.markdown).toContain("refetchEvaluation");
	}, 90_000);
});
