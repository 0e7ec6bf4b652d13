/**
 * OFREP answers are encoded once and replayed (api/ofrep/ofrep-answers.ts): a replay must be indistinguishable
 * from a fresh evaluation. Repeated requests get the same bytes and are all counted in the metrics; the answer
 * follows the mapped headers, the selector and flag changes; a rule that reads `$flagd.timestamp` is evaluated
 * against the clock on every request.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

const FLAGS = {
	flags: {
		greeting: {
			state: "ENABLED",
			variants: { hello: "hello", hi: "hi" },
			defaultVariant: "hello",
			targeting: {
				if: [{ "==": [{ var: "team" }, "blue"] }, "hi", "hello"],
			},
		},
		clock: {
			state: "ENABLED",
			variants: { early: "early", late: "late" },
			defaultVariant: "early",
			targeting: {
				if: [{ ">=": [{ var: "$flagd.timestamp" }, 2_000] }, "late", "early"],
			},
		},
		plain: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
	},
};

/** A flag set without clock-reading rules: its bulk answers are cached (the set above has `clock`, so never). */
const PLAIN_SET = {
	metadata: { flagSetId: "plain-set" },
	flags: {
		steady: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
	},
};
const PLAIN_SELECTOR = { "Flagd-Selector": "flagSetId=plain-set" };

let daemon: RunningDaemon;
let source: MemorySource;
let nowSeconds = 1_000;
let base: string;

beforeAll(async () => {
	source = new MemorySource("mem:answers", FLAGS);
	daemon = await startTestDaemon(
		[source, new MemorySource("mem:plain-set", PLAIN_SET)],
		{ headerContext: { "x-team": "team" } },
		{ nowSeconds: () => nowSeconds },
	);
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`;
});

afterAll(async () => {
	await daemon.close();
});

async function post(
	path: string,
	body: string,
	headers: Record<string, string> = {},
): Promise<{ status: number; text: string; etag: string | null }> {
	const res = await fetch(`${base}${path}`, {
		method: "POST",
		headers: { "Content-Type": "application/json", ...headers },
		body,
	});
	return {
		status: res.status,
		text: await res.text(),
		etag: res.headers.get("etag"),
	};
}

/** A bulk POST with an explicit Host header (fetch does not let a caller choose it). */
function postWithHost(host: string, body: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: "127.0.0.1",
				port: daemon.ports.ofrep,
				path: "/ofrep/v1/evaluate/flags",
				method: "POST",
				headers: {
					host,
					"content-type": "application/json",
					...PLAIN_SELECTOR,
				},
				agent: false,
			},
			(res) => {
				let text = "";
				res.setEncoding("utf8");
				res.on("data", (chunk: string) => {
					text += chunk;
				});
				res.once("end", () => resolve(text));
				res.once("error", reject);
			},
		);
		req.once("error", reject);
		req.end(body);
	});
}

async function impressions(flag: string): Promise<number> {
	const scrape = await (
		await fetch(`http://127.0.0.1:${daemon.ports.management}/metrics`)
	).text();
	let total = 0;
	for (const line of scrape.split("\n")) {
		if (
			line.startsWith("feature_flag_flagd_impression_total{") &&
			line.includes(`feature_flag_key="${flag}"`)
		)
			total += Number(line.slice(line.lastIndexOf(" ") + 1));
	}
	return total;
}

describe("OFREP answer cache", () => {
	it("replays a repeated request byte for byte and counts every evaluation", async () => {
		const body = JSON.stringify({ context: { team: "red", n: 1 } });
		const before = await impressions("plain");
		const steadyBefore = await impressions("steady");
		const answers = [];
		for (let i = 0; i < 3; i++) answers.push(await post("", body));
		const selected = [];
		for (let i = 0; i < 3; i++)
			selected.push(await post("", body, PLAIN_SELECTOR));
		expect(new Set(selected.map((a) => a.text)).size).toBe(1);
		expect(new Set(selected.map((a) => a.etag)).size).toBe(1);
		expect(
			(
				await post("", body, {
					...PLAIN_SELECTOR,
					"If-None-Match": selected[0]?.etag ?? "",
				})
			).status,
		).toBe(304);
		for (const a of answers) {
			expect(a.status).toBe(200);
			expect(a.text).toBe(answers[0]?.text);
			expect(a.etag).toBe(answers[0]?.etag);
		}
		const singles = [];
		for (let i = 0; i < 3; i++) singles.push(await post("/plain", body));
		expect(singles.map((s) => s.text)).toEqual(
			Array(3).fill(
				'{"key":"plain","value":true,"variant":"on","reason":"STATIC","metadata":{}}',
			),
		);
		expect((await impressions("plain")) - before).toBe(6);
		const notModified = await post("", body, {
			"If-None-Match": answers[0]?.etag ?? "",
		});
		expect(notModified.status).toBe(304);
		expect(notModified.etag).toBe(answers[0]?.etag);
		expect((await impressions("plain")) - before).toBe(7);
		// Every bulk answer covers `steady` (4 unselected, uncached; 4 selected, cached, one a 304): all are counted.
		expect((await impressions("steady")) - steadyBefore).toBe(8);
	});

	it("follows the mapped headers and the selector for the same body", async () => {
		const body = JSON.stringify({ context: {} });
		const red = await post("/greeting", body, { "X-Team": "red" });
		const blue = await post("/greeting", body, { "X-Team": "blue" });
		const none = await post("/greeting", body);
		expect(JSON.parse(red.text).value).toBe("hello");
		expect(JSON.parse(blue.text).value).toBe("hi");
		expect(JSON.parse(none.text).value).toBe("hello");
		expect(
			JSON.parse((await post("/greeting", body, { "X-Team": "blue" })).text)
				.value,
		).toBe("hi");
		const selected = await post("/greeting", body, {
			"Flagd-Selector": "source=mem:answers",
		});
		expect(JSON.parse(selected.text).metadata).toEqual({
			source: "mem:answers",
		});
		const bad = await post("/greeting", body, { "Flagd-Selector": "a=b" });
		expect(bad.status).toBe(400);
		expect(
			(await post("/greeting", body, { "Flagd-Selector": "a=b" })).status,
		).toBe(400);
	});

	it("advertises the event stream at the Host each request names", async () => {
		const body = JSON.stringify({ context: { team: "red" } });
		const urls = [];
		for (const host of ["a.example:1", "b.example:2", "a.example:1"]) {
			const answer = JSON.parse(await postWithHost(host, body)) as {
				refreshConnections?: { url: string }[];
			};
			urls.push(answer.refreshConnections?.[0]?.url);
		}
		expect(urls).toEqual([
			"http://a.example:1/ofrep/v1/sse?selector=flagSetId%3Dplain-set",
			"http://b.example:2/ofrep/v1/sse?selector=flagSetId%3Dplain-set",
			"http://a.example:1/ofrep/v1/sse?selector=flagSetId%3Dplain-set",
		]);
	});

	it("evaluates a rule that reads $flagd.timestamp against the clock every time", async () => {
		const body = JSON.stringify({ context: { team: "red" } });
		nowSeconds = 1_000;
		expect(JSON.parse((await post("/clock", body)).text).value).toBe("early");
		const bulkEarly = await post("", body);
		nowSeconds = 3_000;
		expect(JSON.parse((await post("/clock", body)).text).value).toBe("late");
		const bulkLate = await post("", body);
		expect(bulkLate.etag).not.toBe(bulkEarly.etag);
		const clockItem = (text: string) =>
			(
				JSON.parse(text) as { flags: { key: string; value: unknown }[] }
			).flags.find((f) => f.key === "clock")?.value;
		expect(clockItem(bulkEarly.text)).toBe("early");
		expect(clockItem(bulkLate.text)).toBe("late");
	});

	it("drops cached answers when the flags change", async () => {
		const body = JSON.stringify({ context: { team: "green" } });
		const first = await post("/plain", body);
		expect(JSON.parse(first.text).value).toBe(true);
		const bulkFirst = await post("", body);
		source.push({
			flags: {
				...FLAGS.flags,
				plain: { ...FLAGS.flags.plain, defaultVariant: "off" },
			},
		});
		let changed = await post("/plain", body);
		for (let i = 0; i < 200 && JSON.parse(changed.text).value === true; i++) {
			await new Promise((resolve) => setTimeout(resolve, 5));
			changed = await post("/plain", body);
		}
		expect(JSON.parse(changed.text).value).toBe(false);
		const bulkChanged = await post("", body);
		expect(bulkChanged.etag).not.toBe(bulkFirst.etag);
		expect(bulkChanged.text).toContain('"key":"plain","value":false');
	});
});
