/**
 * The load cases of the throughput benchmark (request bodies, load generator and concurrency per case) and the
 * pre-load check of a server's answers through real clients, shared by the daemon and the ceiling runs.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import { ResolveBooleanRequestSchema } from "@flagd-ts/protocol/evaluation-v1";
import {
	THROUGHPUT_CONTEXT,
	THROUGHPUT_FLAG,
	throughputDocument,
} from "./flag-documents.js";
import {
	type LoadResult,
	type LoadTool,
	runH2load,
	runWrk,
} from "./load-generators.js";

export interface Endpoints {
	readonly evaluationPort: number;
	readonly ofrepPort: number;
	/** Where the h2c cases go when not the evaluation port (the bare ceiling serves h2c on a port of its own). */
	readonly h2cPort?: number;
}

/** Short names of the load cases (allocation-profile.ts `--case`). */
export type LoadCaseId =
	| "connect-h1"
	| "connect-h2c"
	| "grpc-h2c"
	| "ofrep-single"
	| "ofrep-bulk";

export interface LoadCase {
	readonly id: LoadCaseId;
	readonly name: string;
	readonly tool: LoadTool;
	readonly concurrency: string;
	run(target: Endpoints, durationS: number | undefined): Promise<LoadResult>;
}

export const RESOLVE_BOOLEAN = "/flagd.evaluation.v1.Service/ResolveBoolean";
export const OFREP_SINGLE = `/ofrep/v1/evaluate/flags/${THROUGHPUT_FLAG}`;
export const OFREP_BULK = "/ofrep/v1/evaluate/flags";
export const JSON_BODY = JSON.stringify({
	flagKey: THROUGHPUT_FLAG,
	context: THROUGHPUT_CONTEXT,
});
export const OFREP_BODY = JSON.stringify({ context: THROUGHPUT_CONTEXT });
/** Requests in flight per case: 32 everywhere (wrk 32 connections; h2load 4 × 8 streams or 32 HTTP/1.1 conns). */
const IN_FLIGHT = 32;

/** The gRPC request of the gRPC case: one uncompressed length-prefixed ResolveBoolean message. */
export function grpcFrame(): Buffer {
	const message = toBinary(
		ResolveBooleanRequestSchema,
		create(ResolveBooleanRequestSchema, {
			flagKey: THROUGHPUT_FLAG,
			context: { ...THROUGHPUT_CONTEXT },
		}),
	);
	const frame = Buffer.alloc(5 + message.length);
	frame.writeUInt8(0, 0); // not compressed
	frame.writeUInt32BE(message.length, 1);
	frame.set(message, 5);
	return frame;
}

/**
 * The cases, their request bodies written to `dir`. Untimed runs (`durationS` undefined) send `requests` requests
 * with h2load (default: 600 in smoke runs, else h2load's 1,000); wrk has no request count and runs 1 s.
 */
export function loadCases(
	dir: string,
	smoke: boolean,
	requests: number | undefined = smoke ? 600 : undefined,
): LoadCase[] {
	const jsonFile = path.join(dir, "resolve-boolean.json");
	const grpcFile = path.join(dir, "resolve-boolean.grpc");
	const ofrepFile = path.join(dir, "ofrep-context.json");
	writeFileSync(jsonFile, JSON_BODY);
	writeFileSync(grpcFile, grpcFrame());
	writeFileSync(ofrepFile, OFREP_BODY);
	const h2 = (port: number, p: string) => `http://127.0.0.1:${port}${p}`;
	return [
		{
			id: "connect-h1",
			name: "Connect JSON, HTTP/1.1",
			tool: "wrk",
			concurrency: `wrk -t1 -c${IN_FLIGHT}`,
			run: (t, d) =>
				runWrk({
					url: h2(t.evaluationPort, RESOLVE_BOOLEAN),
					durationS: d ?? 1,
					connections: IN_FLIGHT,
					postJson: { body: JSON_BODY, scriptPath: path.join(dir, "post.lua") },
				}),
		},
		{
			id: "connect-h2c",
			name: "Connect JSON, h2c",
			tool: "h2load",
			concurrency: "h2load -c4 -m8",
			run: (t, d) =>
				runH2load({
					url: h2(t.h2cPort ?? t.evaluationPort, RESOLVE_BOOLEAN),
					durationS: d,
					requests,
					clients: 4,
					streams: IN_FLIGHT / 4,
					dataFile: jsonFile,
					headers: { "content-type": "application/json" },
				}),
		},
		{
			id: "grpc-h2c",
			name: "gRPC, h2c",
			tool: "h2load",
			concurrency: "h2load -c4 -m8",
			run: (t, d) =>
				runH2load({
					url: h2(t.h2cPort ?? t.evaluationPort, RESOLVE_BOOLEAN),
					durationS: d,
					requests,
					clients: 4,
					streams: IN_FLIGHT / 4,
					dataFile: grpcFile,
					headers: { "content-type": "application/grpc", te: "trailers" },
				}),
		},
		{
			id: "ofrep-single",
			name: "OFREP single, HTTP/1.1",
			tool: "h2load",
			concurrency: `h2load --h1 -c${IN_FLIGHT}`,
			run: (t, d) =>
				runH2load({
					url: h2(t.ofrepPort, OFREP_SINGLE),
					durationS: d,
					requests,
					clients: IN_FLIGHT,
					streams: 1,
					h1: true,
					dataFile: ofrepFile,
					headers: { "content-type": "application/json" },
				}),
		},
		{
			id: "ofrep-bulk",
			name: `OFREP bulk (${Object.keys(throughputDocument().flags).length} flags), HTTP/1.1`,
			tool: "h2load",
			concurrency: `h2load --h1 -c${IN_FLIGHT}`,
			run: (t, d) =>
				runH2load({
					url: h2(t.ofrepPort, OFREP_BULK),
					durationS: d,
					requests,
					clients: IN_FLIGHT,
					streams: 1,
					h1: true,
					dataFile: ofrepFile,
					headers: { "content-type": "application/json" },
				}),
		},
	];
}

/** Checks what the server answers through real clients; returns the OFREP bodies (for the ceiling's constants). */
export async function verifyEndpoints(
	label: string,
	target: Endpoints,
): Promise<{ ofrepSingle: string; ofrepBulk: string }> {
	const baseUrl = `http://127.0.0.1:${target.evaluationPort}`;
	const h2cUrl = `http://127.0.0.1:${target.h2cPort ?? target.evaluationPort}`;
	for (const [transportName, transport] of [
		["gRPC", createGrpcTransport({ baseUrl: h2cUrl })],
		[
			"Connect h2c",
			createConnectTransport({
				baseUrl: h2cUrl,
				httpVersion: "2",
				useBinaryFormat: false,
			}),
		],
		// JSON, as the load cases send (the bare ceiling answers only what it recorded).
		[
			"Connect HTTP/1.1",
			createConnectTransport({
				baseUrl,
				httpVersion: "1.1",
				useBinaryFormat: false,
			}),
		],
	] as const) {
		const client = createClient(EvaluationServiceV1, transport);
		const answer = await client.resolveBoolean({
			flagKey: THROUGHPUT_FLAG,
			context: { ...THROUGHPUT_CONTEXT },
		});
		if (answer.value !== true || answer.variant !== "on")
			throw new Error(
				`${label} ${transportName}: unexpected ResolveBoolean answer ${JSON.stringify(answer)}`,
			);
	}
	const post = async (p: string): Promise<string> => {
		const response = await fetch(`http://127.0.0.1:${target.ofrepPort}${p}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: OFREP_BODY,
		});
		const text = await response.text();
		if (response.status !== 200)
			throw new Error(`${label} OFREP ${p}: HTTP ${response.status} ${text}`);
		return text;
	};
	const ofrepSingle = await post(OFREP_SINGLE);
	const single = JSON.parse(ofrepSingle) as { value?: unknown };
	if (single.value !== true)
		throw new Error(`${label} OFREP single: unexpected ${ofrepSingle}`);
	const ofrepBulk = await post(OFREP_BULK);
	const bulk = JSON.parse(ofrepBulk) as { flags?: unknown[] };
	if (bulk.flags?.length !== Object.keys(throughputDocument().flags).length)
		throw new Error(`${label} OFREP bulk: unexpected ${ofrepBulk}`);
	return { ofrepSingle, ofrepBulk };
}
