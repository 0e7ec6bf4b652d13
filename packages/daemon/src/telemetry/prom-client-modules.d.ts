/**
 * Types of the four prom-client modules daemon-metrics.ts imports directly (prom-client has no `exports` map, so
 * Node resolves its files; each file's `module.exports` is the class the package index re-exports, which
 * daemon-metrics.test.ts checks).
 */
declare module "prom-client/lib/registry.js" {
	import { Registry } from "prom-client";
	export = Registry;
}
declare module "prom-client/lib/counter.js" {
	import { Counter } from "prom-client";
	export = Counter;
}
declare module "prom-client/lib/gauge.js" {
	import { Gauge } from "prom-client";
	export = Gauge;
}
declare module "prom-client/lib/histogram.js" {
	import { Histogram } from "prom-client";
	export = Histogram;
}
