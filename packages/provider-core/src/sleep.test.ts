import { describe, expect, it } from "@jest/globals";
import { sleep } from "./sleep.js";

describe("sleep", () => {
	it("waits about the given time", async () => {
		const started = Date.now();
		await sleep(50, new AbortController().signal);
		expect(Date.now() - started).toBeGreaterThanOrEqual(45);
	});

	it("returns early when aborted, and at once when already aborted", async () => {
		const controller = new AbortController();
		const started = Date.now();
		const pending = sleep(10_000, controller.signal);
		setTimeout(() => controller.abort(), 20);
		await pending;
		expect(Date.now() - started).toBeLessThan(1000);
		const again = Date.now();
		await sleep(10_000, controller.signal);
		expect(Date.now() - again).toBeLessThan(50);
	});

	it("treats a negative delay as 0", async () => {
		const started = Date.now();
		await sleep(-5, new AbortController().signal);
		expect(Date.now() - started).toBeLessThan(1000);
	});
});
