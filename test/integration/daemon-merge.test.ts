/**
 * Multi-source merge through the public APIs: three sources with overlapping keys and flag sets, priority by
 * configured order, a delete in the top source re-exposing the lower copy at once (no FLAG_NOT_FOUND gap, with an
 * `update` event), and selectors by source and by flag set on Connect, OFREP and sync.
 */

import { createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV2, FlagSyncService } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

function flag(value: string) {
	return { state: "ENABLED", variants: { v: value }, defaultVariant: "v" };
}

const lowDoc = { flags: { shared: flag("low"), lowOnly: flag("low") } };
const midDoc = {
	metadata: { flagSetId: "payments" },
	flags: { shared: flag("mid"), checkout: flag("mid") },
};
const highDoc = { flags: { shared: flag("high"), highOnly: flag("high") } };

let daemon: RunningDaemon;
let low: MemorySource;
let mid: MemorySource;
let high: MemorySource;

beforeAll(async () => {
	low = new MemorySource("mem:low", lowDoc);
	mid = new MemorySource("mem:mid", midDoc);
	high = new MemorySource("mem:high", highDoc);
	daemon = await startTestDaemon([low, mid, high]);
	await daemon.ready;
});

afterAll(async () => {
	await daemon.close();
});

function evaluation(headers: Record<string, string> = {}) {
	const client = createClient(
		EvaluationServiceV2,
		createConnectTransport({
			baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
			httpVersion: "1.1",
		}),
	);
	return (flagKey: string) =>
		client.resolveString({ flagKey }, { headers }).then(
			(r) => r.value,
			(e: unknown) => `error: ${(e as Error).message}`,
		);
}

async function ofrepBulk(selector: string): Promise<string[]> {
	const res = await fetch(
		`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`,
		{
			method: "POST",
			headers: { "Flagd-Selector": selector },
		},
	);
	return (
		(await res.json()) as { flags: { key: string; value: string }[] }
	).flags.map((f) => `${f.key}=${f.value}`);
}

describe("merge", () => {
	it("serves the highest-priority copy of each key and every source's own flags", async () => {
		const resolve = evaluation();
		expect(await resolve("shared")).toBe("high");
		expect(await resolve("lowOnly")).toBe("low");
		expect(await resolve("checkout")).toBe("mid");
		expect(await resolve("highOnly")).toBe("high");
	});

	it("re-exposes the lower copy at once when the top source drops a flag, reporting an update", async () => {
		const controller = new AbortController();
		const stream = createClient(
			EvaluationServiceV2,
			createGrpcTransport({
				baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
			}),
		).eventStream({}, { signal: controller.signal });
		const iterator = stream[Symbol.asyncIterator]();
		try {
			expect((await iterator.next()).value?.type).toBe("provider_ready");
			high.push({ flags: { highOnly: flag("high") } });
			expect((await iterator.next()).value?.data).toEqual({
				flags: { shared: { type: "update" } },
			});
			// A key lookup without selector takes the highest-priority source among all flag sets: mid ("payments").
			expect(await evaluation()("shared")).toBe("mid");
			mid.push({
				metadata: { flagSetId: "payments" },
				flags: { checkout: flag("mid") },
			});
			expect((await iterator.next()).value?.data).toEqual({
				flags: { shared: { type: "update" } },
			});
			expect(await evaluation()("shared")).toBe("low");
		} finally {
			controller.abort();
			high.push(highDoc);
			mid.push(midDoc);
		}
	});
});

describe("selectors", () => {
	it("select one source's flags by `source=` or the bare URI", async () => {
		expect(
			await evaluation({ "Flagd-Selector": "source=mem:low" })("shared"),
		).toBe("low");
		expect(await evaluation({ "Flagd-Selector": "mem:mid" })("shared")).toBe(
			"mid",
		);
		expect(
			await evaluation({ "Flagd-Selector": "mem:low" })("checkout"),
		).toMatch(/not found/i);
		expect(await ofrepBulk("source=mem:high")).toEqual([
			"highOnly=high",
			"shared=high",
		]);
	});

	it("select one flag set across sources, or the flags without one", async () => {
		expect(await ofrepBulk("flagSetId=payments")).toEqual([
			"checkout=mid",
			"shared=mid",
		]);
		expect(await ofrepBulk("flagSetId=")).toEqual([
			"highOnly=high",
			"lowOnly=low",
			"shared=high",
		]);
		const sync = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.ports.sync}` }),
		);
		const doc = JSON.parse(
			(
				await sync.fetchAllFlags(
					{},
					{ headers: { "flagd-selector": "flagSetId=payments" } },
				)
			).flagConfiguration,
		);
		expect(Object.keys(doc.flags).sort()).toEqual(["checkout", "shared"]);
		expect(doc.flags.shared.source).toBe("mem:mid");
	});
});
