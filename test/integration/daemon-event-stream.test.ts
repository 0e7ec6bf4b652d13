/**
 * EventStream (v1 and v2) over real connections: provider_ready first, configuration_change with the exact changed
 * keys, selector scoping, keep_alive after the (injected) idle interval, provider_shutdown on close, the
 * server-side stream deadline, and change latency over 100 changes.
 */

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

type Event = { type: string; data?: unknown };

function flag(variant: string) {
	return {
		state: "ENABLED",
		variants: { a: "A", b: "B" },
		defaultVariant: variant,
	};
}

/** Opens an EventStream and returns a reader with a bounded wait per message. */
function openStream(
	baseUrl: string,
	version: "v1" | "v2",
	headers: Record<string, string> = {},
) {
	const controller = new AbortController();
	const transport =
		version === "v1"
			? createConnectTransport({ baseUrl, httpVersion: "1.1" })
			: createGrpcTransport({ baseUrl });
	const service = version === "v1" ? EvaluationServiceV1 : EvaluationServiceV2;
	const stream = createClient(service, transport).eventStream(
		{},
		{ signal: controller.signal, headers },
	);
	const iterator = stream[Symbol.asyncIterator]();
	return {
		async next(timeoutMs = 2_000): Promise<Event> {
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(new Error("no event in time")),
					timeoutMs,
				);
			});
			try {
				const result = await Promise.race([iterator.next(), timeout]);
				if (result.done === true) throw new Error("stream ended");
				return { type: result.value.type, data: result.value.data };
			} finally {
				clearTimeout(timer);
			}
		},
		async end(): Promise<IteratorResult<unknown>> {
			return iterator.next();
		},
		close() {
			controller.abort();
		},
	};
}

describe("EventStream", () => {
	let daemon: RunningDaemon;
	let source: MemorySource;
	let other: MemorySource;
	let base: string;

	beforeAll(async () => {
		source = new MemorySource("mem:main", {
			flags: { keep: flag("a"), change: flag("a"), drop: flag("a") },
		});
		other = new MemorySource("mem:other", {
			flags: { elsewhere: flag("a") },
			metadata: { flagSetId: "other" },
		});
		daemon = await startTestDaemon([source, other], {}, { keepAliveMs: 300 });
		await daemon.ready;
		base = `http://127.0.0.1:${daemon.ports.evaluation}`;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it.each(["v1", "v2"] as const)(
		"%s: provider_ready, then configuration_change with the exact keys",
		async (version) => {
			const stream = openStream(base, version);
			try {
				expect(await stream.next()).toEqual({
					type: "provider_ready",
					data: {},
				});
				source.push({
					flags: { keep: flag("a"), change: flag("b"), added: flag("a") },
				});
				const event = await stream.next();
				expect(event.type).toBe("configuration_change");
				expect(event.data).toEqual({
					flags: {
						change: { type: "update" },
						added: { type: "write" },
						drop: { type: "delete" },
					},
				});
				// Restore for the next case.
				source.push({
					flags: { keep: flag("a"), change: flag("a"), drop: flag("a") },
				});
				expect((await stream.next()).type).toBe("configuration_change");
			} finally {
				stream.close();
			}
		},
	);

	it("only reports changes of the selected view (Flagd-Selector)", async () => {
		const stream = openStream(base, "v1", {
			"Flagd-Selector": "flagSetId=other",
		});
		try {
			expect((await stream.next()).type).toBe("provider_ready");
			source.push({
				flags: { keep: flag("b"), change: flag("a"), drop: flag("a") },
			});
			other.push({
				flags: { elsewhere: flag("b") },
				metadata: { flagSetId: "other" },
			});
			expect(await stream.next()).toEqual({
				type: "configuration_change",
				data: { flags: { elsewhere: { type: "update" } } },
			});
		} finally {
			stream.close();
		}
	});

	it("sends keep_alive after the idle interval, without data", async () => {
		const stream = openStream(base, "v2");
		try {
			expect((await stream.next()).type).toBe("provider_ready");
			const started = Date.now();
			expect(await stream.next(3_000)).toEqual({
				type: "keep_alive",
				data: undefined,
			});
			expect(Date.now() - started).toBeGreaterThanOrEqual(250);
		} finally {
			stream.close();
		}
	});

	it("delivers 100 changes with a p99 latency far below a second (bench/ measures the 50 ms target)", async () => {
		const stream = openStream(base, "v2");
		try {
			expect((await stream.next()).type).toBe("provider_ready");
			const latencies: number[] = [];
			for (let i = 0; i < 100; i++) {
				const started = performance.now();
				source.push({
					flags: {
						keep: flag("b"),
						change: flag(i % 2 === 0 ? "b" : "a"),
						drop: flag("a"),
					},
				});
				const event = await stream.next();
				latencies.push(performance.now() - started);
				expect(event.data).toEqual({ flags: { change: { type: "update" } } });
			}
			latencies.sort((a, b) => a - b);
			expect(latencies[98]).toBeLessThan(250);
		} finally {
			stream.close();
		}
	});

	it("rejects an invalid selector with invalid_argument", async () => {
		const stream = openStream(base, "v1", { "Flagd-Selector": "nonsense=1" });
		const failure = await stream.next().catch((e: unknown) => e);
		expect(failure).toBeInstanceOf(ConnectError);
		expect((failure as ConnectError).code).toBe(Code.InvalidArgument);
		stream.close();
	});
});

describe("EventStream lifecycle", () => {
	it("sends provider_shutdown to every open stream when the daemon closes", async () => {
		const source = new MemorySource("mem:x", { flags: { f: flag("a") } });
		const daemon = await startTestDaemon([source]);
		await daemon.ready;
		const base = `http://127.0.0.1:${daemon.ports.evaluation}`;
		const v1 = openStream(base, "v1");
		const v2 = openStream(base, "v2");
		expect((await v1.next()).type).toBe("provider_ready");
		expect((await v2.next()).type).toBe("provider_ready");
		const closing = daemon.close();
		expect(await v1.next()).toEqual({ type: "provider_shutdown", data: {} });
		expect(await v2.next()).toEqual({ type: "provider_shutdown", data: {} });
		expect((await v1.end()).done).toBe(true);
		await closing;
	});

	it("ends streams with deadline_exceeded after streamDeadlineMs", async () => {
		const source = new MemorySource("mem:y", { flags: { f: flag("a") } });
		const daemon = await startTestDaemon([source], { streamDeadlineMs: 200 });
		try {
			await daemon.ready;
			const stream = openStream(
				`http://127.0.0.1:${daemon.ports.evaluation}`,
				"v2",
			);
			expect((await stream.next()).type).toBe("provider_ready");
			const failure = await stream.next(3_000).catch((e: unknown) => e);
			expect(failure).toBeInstanceOf(ConnectError);
			expect((failure as ConnectError).code).toBe(Code.DeadlineExceeded);
			expect((failure as ConnectError).rawMessage).toBe(
				"stream closed due to server-side timeout",
			);
		} finally {
			await daemon.close();
		}
	});
});
