/**
 * The soak benchmark's load, in its own process so that when it exits every connection it made closes and the
 * daemon's descriptor count can be compared with the baseline:
 * `node soak-load.mjs --evaluation <port> --ofrep <port> --flag-file <path> --seconds <n>`.
 *
 * Mixed load for `--seconds`: unary evaluations over gRPC and Connect HTTP/1.1 (boolean, string, object, all),
 * OFREP single and bulk over fetch, EventStream churn (batches of streams on a fresh HTTP/2 session each: open,
 * wait for provider_ready, hold 50–400 ms, cancel) and a flag-file change every `--change-ms` (atomic rename).
 * Prints one JSON line `{"event":"ready", ...counts}` at the end (the "ready" event is what child-process.ts
 * waits for), then exits. Any failed request is counted and reported, never dropped.
 */
import { setMaxListeners } from "node:events";
import { renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import {
	revisionDocument,
	THROUGHPUT_CONTEXT,
	THROUGHPUT_FLAG,
} from "./flag-documents.js";

/** The summary line. */
export interface SoakLoadSummary {
	readonly event: "ready";
	readonly unary: number;
	readonly ofrep: number;
	readonly streamsOpened: number;
	readonly changes: number;
	readonly changeEventsReceived: number;
	readonly errors: number;
	readonly firstErrors: readonly string[];
}

const counts = {
	unary: 0,
	ofrep: 0,
	streamsOpened: 0,
	changes: 0,
	changeEventsReceived: 0,
	errors: 0,
};
const firstErrors: string[] = [];

function fail(where: string, e: unknown): void {
	counts.errors++;
	if (firstErrors.length < 5)
		firstErrors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
}

async function unaryWorker(
	client: ReturnType<typeof createClient<typeof EvaluationServiceV1>>,
	until: number,
	name: string,
): Promise<void> {
	const context = { ...THROUGHPUT_CONTEXT };
	let i = 0;
	while (performance.now() < until) {
		try {
			switch (i++ % 4) {
				case 0:
					await client.resolveBoolean({ flagKey: THROUGHPUT_FLAG, context });
					break;
				case 1:
					await client.resolveString({ flagKey: "banner-color", context });
					break;
				case 2:
					await client.resolveObject({
						flagKey: "checkout-config",
						context: { ...context, appVersion: "2.1.0" },
					});
					break;
				default:
					await client.resolveAll({ context });
			}
			counts.unary++;
		} catch (e: unknown) {
			fail(name, e);
		}
	}
}

async function ofrepWorker(port: number, until: number): Promise<void> {
	const body = JSON.stringify({ context: THROUGHPUT_CONTEXT });
	let i = 0;
	while (performance.now() < until) {
		const url = `http://127.0.0.1:${port}/ofrep/v1/evaluate/flags${i++ % 2 === 0 ? `/${THROUGHPUT_FLAG}` : ""}`;
		try {
			const response = await fetch(url, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body,
			});
			await response.arrayBuffer();
			if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
			counts.ofrep++;
		} catch (e: unknown) {
			fail("ofrep", e);
		}
	}
}

async function streamChurn(
	port: number,
	until: number,
	batch: number,
): Promise<void> {
	while (performance.now() < until) {
		// A fresh transport is a fresh HTTP/2 session: connection churn as well as stream churn.
		const client = createClient(
			EvaluationServiceV1,
			createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }),
		);
		const controller = new AbortController();
		setMaxListeners(batch + 10, controller.signal);
		const holdMs = 50 + Math.random() * 350;
		let ready = 0;
		const streams = Array.from({ length: batch }, async () => {
			try {
				for await (const event of client.eventStream(
					{},
					{ signal: controller.signal },
				)) {
					if (event.type === "provider_ready") ready++;
					else if (event.type === "configuration_change")
						counts.changeEventsReceived++;
				}
			} catch (e: unknown) {
				if (
					!(
						controller.signal.aborted &&
						ConnectError.from(e).code === Code.Canceled
					)
				)
					fail("event stream", e);
			}
		});
		const opened = performance.now();
		while (ready < batch && performance.now() - opened < 5_000)
			await new Promise((r) => setTimeout(r, 5));
		if (ready < batch)
			fail(
				"event stream",
				new Error(`only ${ready}/${batch} streams got provider_ready in 5 s`),
			);
		counts.streamsOpened += batch;
		await new Promise((r) => setTimeout(r, holdMs));
		controller.abort();
		await Promise.all(streams);
	}
}

async function fileChanger(
	flagFile: string,
	until: number,
	everyMs: number,
): Promise<void> {
	let revision = 1000;
	while (performance.now() + everyMs < until) {
		await new Promise((r) => setTimeout(r, everyMs));
		try {
			writeFileSync(
				`${flagFile}.tmp`,
				JSON.stringify(revisionDocument(++revision)),
			);
			renameSync(`${flagFile}.tmp`, flagFile);
			counts.changes++;
		} catch (e: unknown) {
			fail("file change", e);
		}
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			evaluation: { type: "string" },
			ofrep: { type: "string" },
			"flag-file": { type: "string" },
			seconds: { type: "string" },
			"change-ms": { type: "string", default: "1000" },
		},
	});
	const evaluation = Number(values.evaluation);
	const ofrep = Number(values.ofrep);
	const seconds = Number(values.seconds);
	const flagFile = values["flag-file"];
	if (!(evaluation > 0 && ofrep > 0 && seconds > 0) || flagFile === undefined)
		throw new Error(
			"soak-load: --evaluation, --ofrep, --flag-file and --seconds are required",
		);
	const until = performance.now() + seconds * 1000;
	const baseUrl = `http://127.0.0.1:${evaluation}`;
	const grpc = createClient(
		EvaluationServiceV1,
		createGrpcTransport({ baseUrl }),
	);
	const connect = createClient(
		EvaluationServiceV1,
		createConnectTransport({ baseUrl, httpVersion: "1.1" }),
	);
	await Promise.all([
		unaryWorker(grpc, until, "gRPC"),
		unaryWorker(grpc, until, "gRPC"),
		unaryWorker(connect, until, "Connect HTTP/1.1"),
		unaryWorker(connect, until, "Connect HTTP/1.1"),
		ofrepWorker(ofrep, until),
		streamChurn(evaluation, until, 25),
		streamChurn(evaluation, until, 25),
		fileChanger(flagFile, until, Number(values["change-ms"])),
	]);
	const summary: SoakLoadSummary = { event: "ready", ...counts, firstErrors };
	process.stdout.write(`${JSON.stringify(summary)}\n`);
	// Exiting closes every pooled connection (connect-node sessions, fetch keep-alive), which is the point.
	process.exit(0);
}

main().catch((e: unknown) => {
	process.stderr.write(
		`soak-load failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
