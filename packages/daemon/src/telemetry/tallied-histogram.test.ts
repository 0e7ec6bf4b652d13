import { describe, expect, it } from "@jest/globals";
import { Histogram, Registry } from "prom-client";
import { TalliedHistogram } from "./tallied-histogram.js";

const BOUNDS = [0.005, 0.01, 0.1, 1, 10];
const SERIES = [
	{ service_name: "flagd", http_route: "/a", http_response_status_code: "200" },
	{
		service_name: "flagd",
		http_route: '/b"\\',
		http_response_status_code: "404",
	},
];
// On bounds, between them, beyond the last, zero.
const VALUES = [0, 0.005, 0.0051, 0.01, 0.5, 1, 9.99, 10, 10.01, 1234.5];

function both(): {
	ours: Registry;
	theirs: Registry;
	tallied: TalliedHistogram;
	histogram: Histogram<string>;
} {
	const ours = new Registry();
	const theirs = new Registry();
	const tallied = new TalliedHistogram("d_seconds", "Durations.", BOUNDS, ours);
	const histogram = new Histogram({
		name: "d_seconds",
		help: "Durations.",
		labelNames: Object.keys(SERIES[0] as object),
		buckets: BOUNDS,
		registers: [theirs],
	});
	for (const [i, labels] of SERIES.entries()) {
		const series = tallied.series(labels);
		const child = histogram.labels(labels);
		for (const v of VALUES.slice(i * 3)) {
			tallied.observe(series, v);
			child.observe(v);
		}
	}
	return { ours, theirs, tallied, histogram };
}

describe("TalliedHistogram", () => {
	it("exposes exactly what prom-client's Histogram exposes for the same observations, as text and as JSON", async () => {
		const { ours, theirs } = both();
		const text = await ours.metrics();
		expect(text).toBe(await theirs.metrics());
		expect(text).toContain(
			'd_seconds_bucket{le="0.005",service_name="flagd",http_route="/a",http_response_status_code="200"} 2',
		);
		expect(await ours.getMetricsAsJSON()).toEqual(
			await theirs.getMetricsAsJSON(),
		);
	});

	it("reset() forgets every observation, as prom-client's registry reset does for its own metrics", async () => {
		const { ours, theirs, tallied } = both();
		ours.resetMetrics();
		theirs.resetMetrics();
		expect(await ours.metrics()).toBe(await theirs.metrics());
		expect(await ours.metrics()).not.toContain("d_seconds_count");
		const series = tallied.series({ service_name: "x" });
		tallied.observe(series, 0.02);
		expect(await ours.metrics()).toContain(
			'd_seconds_bucket{le="0.1",service_name="x"} 1',
		);
	});
});
