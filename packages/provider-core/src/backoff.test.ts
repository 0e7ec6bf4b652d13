import { describe, expect, it } from "@jest/globals";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
	it("doubles the ceiling per attempt and caps it at maxDelayMs", () => {
		const top = new Backoff({
			initialDelayMs: 100,
			maxDelayMs: 1000,
			random: () => 0.999999,
		});
		expect([1, 2, 3, 4, 5, 6].map(() => top.nextDelayMs())).toEqual([
			100, 200, 400, 800, 1000, 1000,
		]);
	});

	it("never waits less than half the ceiling (equal jitter)", () => {
		const bottom = new Backoff({
			initialDelayMs: 100,
			maxDelayMs: 1000,
			random: () => 0,
		});
		expect([1, 2, 3, 4, 5].map(() => bottom.nextDelayMs())).toEqual([
			50, 100, 200, 400, 500,
		]);
	});

	it("spreads delays randomly within [ceiling/2, ceiling]", () => {
		const b = new Backoff({ initialDelayMs: 1000, maxDelayMs: 60_000 });
		const seen = new Set<number>();
		for (let i = 0; i < 50; i++) {
			b.reset();
			const d = b.nextDelayMs();
			expect(d).toBeGreaterThanOrEqual(500);
			expect(d).toBeLessThanOrEqual(1000);
			seen.add(d);
		}
		expect(seen.size).toBeGreaterThan(5);
	});

	it("starts over after reset", () => {
		const b = new Backoff({
			initialDelayMs: 10,
			maxDelayMs: 10_000,
			random: () => 0.999999,
		});
		b.nextDelayMs();
		b.nextDelayMs();
		expect(b.attempts).toBe(2);
		b.reset();
		expect(b.attempts).toBe(0);
		expect(b.nextDelayMs()).toBe(10);
	});

	it("caps at maxDelayMs even when it is below the initial delay", () => {
		const b = new Backoff({
			initialDelayMs: 5000,
			maxDelayMs: 300,
			random: () => 0.999999,
		});
		expect(b.nextDelayMs()).toBe(300);
	});

	it("does not overflow after many attempts", () => {
		const b = new Backoff({
			initialDelayMs: 1,
			maxDelayMs: 12_000,
			random: () => 0.5,
		});
		for (let i = 0; i < 2000; i++) b.nextDelayMs();
		expect(b.nextDelayMs()).toBe(9000);
	});

	it("rejects non-positive delays", () => {
		expect(() => new Backoff({ initialDelayMs: 0, maxDelayMs: 10 })).toThrow(
			RangeError,
		);
	});

	it("has no jitter with jitter=0 and only shortens delays with jitter>0 (the daemon syncs' settings)", () => {
		const none = new Backoff({
			initialDelayMs: 100,
			maxDelayMs: 1000,
			jitter: 0,
			random: () => 0.5,
		});
		expect([1, 2, 3, 4, 5, 6].map(() => none.nextDelayMs())).toEqual([
			100, 200, 400, 800, 1000, 1000,
		]);
		const full = new Backoff({
			initialDelayMs: 100,
			maxDelayMs: 1000,
			jitter: 1,
			random: () => 0,
		});
		expect(full.nextDelayMs()).toBe(0);
	});

	it("defaults to 1 s doubling to 60 s with equal jitter", () => {
		const b = new Backoff({ random: () => 0.999999 });
		const delays = Array.from({ length: 8 }, () => b.nextDelayMs());
		expect(delays).toEqual([
			1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
		]);
		const low = new Backoff({ random: () => 0 });
		expect(low.nextDelayMs()).toBe(500);
	});

	it("rejects a multiplier below 1 and a jitter outside [0, 1]", () => {
		expect(() => new Backoff({ multiplier: 0.5 })).toThrow(/multiplier/);
		expect(() => new Backoff({ jitter: 1.5 })).toThrow(/jitter/);
		expect(() => new Backoff({ jitter: -0.1 })).toThrow(/jitter/);
	});
});
