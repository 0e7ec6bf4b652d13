/**
 * Transport-level behaviour of the daemon: TLS (certificates made with openssl at test time, signed by a CA made
 * in the test), unix sockets, CORS and preflight, request limits and malformed requests on the evaluation port,
 * each followed by a proof that the daemon keeps serving.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import {
	EvaluationServiceV1,
	EvaluationServiceV2,
	FlagSyncService,
} from "@flagd-ts/protocol";
import {
	FetchAllFlagsRequestSchema,
	FetchAllFlagsResponseSchema,
} from "@flagd-ts/protocol/sync-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

let dir: string;

beforeAll(() => {
	dir = mkdtempSync(join(tmpdir(), "daemon-transport-"));
});

afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
});

let fixtures: TlsFixtures | undefined;

afterAll(() => fixtures?.remove());

/** A CA and a server certificate for localhost/127.0.0.1 signed by it. */
function makeCertificates(): { ca: Buffer; certPath: string; keyPath: string } {
	fixtures = createTlsFixtures();
	return {
		ca: readFileSync(fixtures.caCertPath),
		certPath: fixtures.serverCertPath,
		keyPath: fixtures.serverKeyPath,
	};
}

describe("TLS", () => {
	let daemon: RunningDaemon;
	let ca: Buffer;

	beforeAll(async () => {
		const certs = makeCertificates();
		ca = certs.ca;
		daemon = await startTestDaemon([new MemorySource("mem:tls", BASIC_FLAGS)], {
			tls: { certPath: certs.certPath, keyPath: certs.keyPath },
		});
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it("serves gRPC over h2 (ALPN) and Connect over HTTP/1.1 on the TLS evaluation port", async () => {
		const baseUrl = `https://localhost:${daemon.ports.evaluation}`;
		const overH2 = createClient(
			EvaluationServiceV2,
			createGrpcTransport({ baseUrl, nodeOptions: { ca } }),
		);
		expect((await overH2.resolveBoolean({ flagKey: "bool-flag" })).reason).toBe(
			"STATIC",
		);
		const overH1 = createClient(
			EvaluationServiceV1,
			createConnectTransport({
				baseUrl,
				httpVersion: "1.1",
				nodeOptions: { ca },
			}),
		);
		expect((await overH1.resolveString({ flagKey: "headerColor" })).value).toBe(
			"#FF0000",
		);
	});

	it("refuses a client that does not trust the CA", async () => {
		const client = createClient(
			EvaluationServiceV2,
			createGrpcTransport({
				baseUrl: `https://localhost:${daemon.ports.evaluation}`,
			}),
		);
		await expect(
			client.resolveBoolean({ flagKey: "bool-flag" }),
		).rejects.toThrow();
	});

	it("serves the sync API over TLS to @grpc/grpc-js", async () => {
		const client = new grpc.Client(
			`localhost:${daemon.ports.sync}`,
			grpc.credentials.createSsl(ca),
		);
		try {
			const response = await new Promise<{ flagConfiguration: string }>(
				(resolve, reject) => {
					client.makeUnaryRequest(
						"/flagd.sync.v1.FlagSyncService/FetchAllFlags",
						(req: object) =>
							Buffer.from(
								toBinary(
									FetchAllFlagsRequestSchema,
									create(FetchAllFlagsRequestSchema, req),
								),
							),
						(buf: Buffer) => fromBinary(FetchAllFlagsResponseSchema, buf),
						{},
						(err, value) =>
							err || value === undefined ? reject(err) : resolve(value),
					);
				},
			);
			expect(
				Object.keys(JSON.parse(response.flagConfiguration).flags),
			).toContain("bool-flag");
		} finally {
			client.close();
		}
	});
});

describe("unix sockets", () => {
	it("serves evaluation (HTTP/1.1 and gRPC) and sync on unix sockets", async () => {
		const socketPath = join(dir, "eval.sock");
		const syncSocketPath = join(dir, "sync.sock");
		const daemon = await startTestDaemon(
			[new MemorySource("mem:unix", BASIC_FLAGS)],
			{ socketPath, syncSocketPath },
		);
		try {
			await daemon.ready;
			expect(daemon.ports.evaluation).toBeUndefined();
			const body = await new Promise<string>((resolve, reject) => {
				const req = http.request(
					{
						socketPath,
						path: "/flagd.evaluation.v2.Service/ResolveBoolean",
						method: "POST",
						headers: { "content-type": "application/json" },
					},
					(res) => {
						let text = "";
						res.setEncoding("utf8");
						res.on("data", (chunk: string) => {
							text += chunk;
						});
						res.on("end", () => resolve(text));
					},
				);
				req.on("error", reject);
				req.end(JSON.stringify({ flagKey: "bool-flag" }));
			});
			expect(JSON.parse(body)).toEqual({
				value: false,
				reason: "STATIC",
				variant: "off",
				metadata: {},
			});
			const grpcClient = new grpc.Client(
				`unix://${syncSocketPath}`,
				grpc.credentials.createInsecure(),
			);
			try {
				const response = await new Promise<{ flagConfiguration: string }>(
					(resolve, reject) => {
						grpcClient.makeUnaryRequest(
							"/flagd.sync.v1.FlagSyncService/FetchAllFlags",
							(req: object) =>
								Buffer.from(
									toBinary(
										FetchAllFlagsRequestSchema,
										create(FetchAllFlagsRequestSchema, req),
									),
								),
							(buf: Buffer) => fromBinary(FetchAllFlagsResponseSchema, buf),
							{},
							(err, value) =>
								err || value === undefined ? reject(err) : resolve(value),
						);
					},
				);
				expect(
					JSON.parse(response.flagConfiguration).flags["bool-flag"],
				).toBeDefined();
			} finally {
				grpcClient.close();
			}
		} finally {
			await daemon.close();
		}
	});
});

describe("CORS, limits and bad requests", () => {
	let daemon: RunningDaemon;
	let base: string;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:limits", BASIC_FLAGS)],
			{
				corsOrigins: ["https://app.example"],
				maxRequestBodyBytes: 2_000,
				maxRequestHeaderBytes: 4_000,
			},
		);
		await daemon.ready;
		base = `http://127.0.0.1:${daemon.ports.evaluation}`;
	});

	afterAll(async () => {
		await daemon.close();
	});

	const path = "/flagd.evaluation.v1.Service/ResolveBoolean";

	async function stillServes(): Promise<void> {
		const client = createClient(
			EvaluationServiceV1,
			createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
		);
		expect(
			(await client.resolveBoolean({ flagKey: "bool-flag" })).variant,
		).toBe("off");
	}

	it("answers a preflight from an allowed origin with the Connect headers", async () => {
		const res = await fetch(`${base}${path}`, {
			method: "OPTIONS",
			headers: {
				Origin: "https://app.example",
				"Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers":
					"content-type,connect-protocol-version,flagd-selector",
			},
		});
		expect(res.status).toBe(204);
		expect(res.headers.get("access-control-allow-origin")).toBe(
			"https://app.example",
		);
		expect(res.headers.get("access-control-allow-methods")).toContain("POST");
		expect(res.headers.get("access-control-allow-headers")).toBe(
			"content-type,connect-protocol-version,flagd-selector",
		);
	});

	it("exposes the gRPC/Connect headers on actual requests and leaves other origins without CORS headers", async () => {
		const allowed = await fetch(`${base}${path}`, {
			method: "POST",
			headers: {
				Origin: "https://app.example",
				"Content-Type": "application/json",
			},
			body: JSON.stringify({ flagKey: "bool-flag" }),
		});
		expect(allowed.headers.get("access-control-allow-origin")).toBe(
			"https://app.example",
		);
		expect(allowed.headers.get("access-control-expose-headers")).toContain(
			"Grpc-Status",
		);
		await allowed.text();
		const denied = await fetch(`${base}${path}`, {
			method: "OPTIONS",
			headers: {
				Origin: "https://evil.example",
				"Access-Control-Request-Method": "POST",
			},
		});
		expect(denied.headers.get("access-control-allow-origin")).toBeNull();
		await denied.text();
	});

	async function raw(
		body: string | undefined,
		headers: Record<string, string>,
	) {
		const res = await fetch(`${base}${path}`, {
			method: "POST",
			headers,
			...(body === undefined ? {} : { body }),
		});
		const text = await res.text();
		return { status: res.status, text };
	}

	it("rejects an empty JSON body with invalid_argument", async () => {
		const res = await raw("", { "Content-Type": "application/json" });
		expect(res.status).toBe(400);
		expect(JSON.parse(res.text).code).toBe("invalid_argument");
		await stillServes();
	});

	it("rejects a wrong content type with 415", async () => {
		const res = await raw(JSON.stringify({ flagKey: "bool-flag" }), {
			"Content-Type": "text/plain",
		});
		expect(res.status).toBe(415);
		await stillServes();
	});

	it("rejects a body over --max-request-body with resource_exhausted", async () => {
		const res = await raw(
			JSON.stringify({
				flagKey: "bool-flag",
				context: { pad: "x".repeat(5_000) },
			}),
			{
				"Content-Type": "application/json",
			},
		);
		expect(JSON.parse(res.text).code).toBe("resource_exhausted");
		await stillServes();
	});

	it("rejects headers over the limit with 431", async () => {
		const res = await raw(JSON.stringify({ flagKey: "bool-flag" }), {
			"Content-Type": "application/json",
			"X-Pad": "y".repeat(8_000),
		});
		expect(res.status).toBe(431);
		await stillServes();
	});

	it("rejects a malformed context and invalid JSON with invalid_argument", async () => {
		for (const body of [
			JSON.stringify({ flagKey: "bool-flag", context: "nope" }),
			"{broken",
		]) {
			const res = await raw(body, { "Content-Type": "application/json" });
			expect(res.status).toBe(400);
			expect(JSON.parse(res.text).code).toBe("invalid_argument");
		}
		await stillServes();
	});

	it("answers a request without flagKey with not_found, and unknown paths with 404", async () => {
		const res = await raw("{}", { "Content-Type": "application/json" });
		expect(res.status).toBe(404);
		expect(JSON.parse(res.text)).toEqual({
			code: "not_found",
			message: "Flag not found",
		});
		const missing = await fetch(`${base}/flagd.evaluation.v1.Service/Nope`, {
			method: "POST",
		});
		expect(missing.status).toBe(404);
		await missing.text();
		await stillServes();
	});

	it("keeps FlagSyncService off the evaluation port", async () => {
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl: base }),
		);
		await expect(client.fetchAllFlags({})).rejects.toThrow();
	});
});
