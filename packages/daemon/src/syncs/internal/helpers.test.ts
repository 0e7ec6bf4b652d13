import { sleep as abortableSleep } from "@flagd-ts/provider-core";
import { describe, expect, it } from "@jest/globals";
import { parseBlobUri } from "./blob-uri.js";
import { ChangeTrigger } from "./change-trigger.js";
import { checkFlagDocument } from "./check-flag-document.js";
import {
	formatForRemote,
	formatFromContentType,
	formatFromPath,
} from "./document-format.js";
import { fnv32a, nextPollDelayMs, pollOffsetMs } from "./poll-schedule.js";

describe("poll schedule", () => {
	it("fnv32a matches the published FNV-1a 32 vectors", () => {
		expect(fnv32a("")).toBe(0x811c9dc5);
		expect(fnv32a("a")).toBe(0xe40c292c);
		expect(fnv32a("foobar")).toBe(0xbf9cf968);
	});

	it("aligns polls to the wall-clock grid shifted by the seed's offset", () => {
		expect(pollOffsetMs(5000, undefined)).toBe(0);
		const offset = pollOffsetMs(5000, "replica-7");
		expect(offset).toBe(fnv32a("replica-7") % 5000);
		expect(nextPollDelayMs(10_000, 5000, 0)).toBe(5000);
		expect(nextPollDelayMs(12_000, 5000, 0)).toBe(3000);
		expect(nextPollDelayMs(12_000, 5000, 1500)).toBe(4500);
		expect(nextPollDelayMs(11_499, 5000, 1500)).toBe(1);
		expect(pollOffsetMs(5000, "replica-1")).not.toBe(
			pollOffsetMs(5000, "replica-2"),
		);
	});
});

describe("checkFlagDocument", () => {
	it.each([
		['{"flags":{}}', "json", true],
		["flags: {}\n", "yaml", true],
		["", "json", false],
		["{}", "json", false],
		["[]", "json", false],
		["null", "json", false],
		['{"flags":[]}', "json", false],
		["just text", "yaml", false],
		["{ trunc", "json", false],
		["a: &a [*a]\n", "yaml", false],
	] as const)("%j as %s → ok=%s", (text, format, ok) => {
		expect(checkFlagDocument(text, format).ok).toBe(ok);
	});
});

describe("document format", () => {
	it("picks the parser by extension and Content-Type", () => {
		expect(formatFromPath("a/B.YML")).toBe("yaml");
		expect(formatFromPath("a.json")).toBe("json");
		expect(formatFromPath("a.txt")).toBeUndefined();
		expect(formatFromContentType("application/yaml; charset=utf-8")).toBe(
			"yaml",
		);
		expect(formatFromContentType("application/x-yaml")).toBe("yaml");
		expect(formatFromContentType("application/json")).toBe("json");
		expect(formatForRemote("text/plain", "/f.yaml")).toBe("yaml");
		expect(formatForRemote(null, "/flags")).toBe("json");
	});
});

describe("parseBlobUri", () => {
	it("splits bucket, object and query", () => {
		const uri = parseBlobUri("s3://bucket/dir/flags.json?region=x");
		expect(uri).toMatchObject({
			scheme: "s3",
			bucket: "bucket",
			object: "dir/flags.json",
		});
		expect(uri.query.get("region")).toBe("x");
		expect(() => parseBlobUri("s3://bucket")).toThrow(
			/expected s3:\/\/bucket\/key/,
		);
	});
});

describe("abortableSleep and ChangeTrigger", () => {
	it("end early on abort and deliver notifications level-triggered", async () => {
		const controller = new AbortController();
		const started = Date.now();
		const sleeping = abortableSleep(10_000, controller.signal);
		const trigger = new ChangeTrigger();
		trigger.notify();
		trigger.notify();
		expect(await trigger.wait(controller.signal)).toBe(true);
		expect(await trigger.wait(controller.signal, 5)).toBe(false);
		const waiting = trigger.wait(controller.signal);
		controller.abort();
		await sleeping;
		expect(await waiting).toBe(false);
		expect(Date.now() - started).toBeLessThan(1000);
	});
});
