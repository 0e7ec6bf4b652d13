/**
 * TLS with `-c/-k` on every port (evaluation, sync, OFREP, management), the TLS handshake bounded by the header
 * timeout, and client certificates required on the sync port with `--sync-client-ca-path`. Certificates are made
 * with openssl at test time: a CA, a server certificate and a client certificate signed by it.
 */
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import {
	FetchAllFlagsRequestSchema,
	FetchAllFlagsResponseSchema,
} from "@flagd-ts/protocol/sync-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	createClientCertificate,
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";
import { closedByServer, connectRaw, once } from "./connection-test-kit.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

describe("TLS on every port, client certificates on the sync port", () => {
	let tls: TlsFixtures;
	let daemon: RunningDaemon;
	let ca: Buffer;
	let clientKey: Buffer;
	let clientCert: Buffer;

	beforeAll(async () => {
		tls = createTlsFixtures();
		const client = createClientCertificate(tls, "edge-daemon");
		ca = readFileSync(tls.caCertPath);
		clientKey = readFileSync(client.keyPath);
		clientCert = readFileSync(client.certPath);
		daemon = await startTestDaemon(
			[new MemorySource("mem:mtls", BASIC_FLAGS)],
			{
				tls: { certPath: tls.serverCertPath, keyPath: tls.serverKeyPath },
				syncClientCaPath: tls.caCertPath,
				headerTimeoutMs: 500,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
		tls.remove();
	});

	function httpsRequest(
		port: number,
		method: string,
		path: string,
		body?: string,
	): Promise<{ status: number; text: string }> {
		return new Promise((resolve, reject) => {
			const req = https.request(
				{
					host: "localhost",
					port,
					method,
					path,
					ca,
					headers: { "content-type": "application/json" },
				},
				(res) => {
					let text = "";
					res.setEncoding("utf8");
					res.on("data", (c: string) => {
						text += c;
					});
					res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
				},
			);
			req.on("error", reject);
			req.end(body);
		});
	}

	it("serves OFREP over HTTPS", async () => {
		const res = await httpsRequest(
			daemon.ports.ofrep,
			"POST",
			"/ofrep/v1/evaluate/flags/bool-flag",
			"{}",
		);
		expect(res.status).toBe(200);
		expect(JSON.parse(res.text)).toMatchObject({
			key: "bool-flag",
			value: false,
		});
	});

	it("serves management over HTTPS (HTTP/1.1 and h2)", async () => {
		expect(
			await httpsRequest(daemon.ports.management, "GET", "/healthz"),
		).toEqual({
			status: 200,
			text: "OK\n",
		});
		const session = http2.connect(
			`https://localhost:${daemon.ports.management}`,
			{ ca },
		);
		session.on("error", () => {});
		try {
			const stream = session.request({ ":path": "/readyz" });
			const [headers] = await Promise.all([
				once<http2.IncomingHttpHeaders>(
					stream,
					"response",
					5_000,
					"the /readyz response",
				),
				stream.end(),
			]);
			expect(headers[":status"]).toBe(200);
			stream.resume();
		} finally {
			session.destroy();
		}
	});

	it.each([
		["evaluation", () => daemon.ports.evaluation],
		["sync", () => daemon.ports.sync],
		["OFREP", () => daemon.ports.ofrep],
		["management", () => daemon.ports.management],
	])(
		"closes a connection to the TLS %s port that never starts the handshake",
		async (_name, port) => {
			const socket = await connectRaw(port() as number);
			try {
				await closedByServer(socket, 10_000);
			} finally {
				socket.destroy();
			}
		},
	);

	it("refuses cleartext HTTP on the OFREP and management ports", async () => {
		for (const port of [daemon.ports.ofrep, daemon.ports.management]) {
			await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
		}
	});

	function fetchAll(credentials: grpc.ChannelCredentials): Promise<string> {
		const client = new grpc.Client(
			`localhost:${daemon.ports.sync}`,
			credentials,
		);
		return new Promise<string>((resolve, reject) => {
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
					err || value === undefined
						? reject(err)
						: resolve(value.flagConfiguration),
			);
		}).finally(() => client.close());
	}

	it("refuses a sync client without a client certificate", async () => {
		await expect(
			fetchAll(grpc.credentials.createSsl(ca)),
		).rejects.toMatchObject({
			code: grpc.status.UNAVAILABLE,
		});
	});

	it("serves a sync client with a certificate from the client CA", async () => {
		const config = await fetchAll(
			grpc.credentials.createSsl(ca, clientKey, clientCert),
		);
		expect(Object.keys(JSON.parse(config).flags)).toContain("bool-flag");
	});

	it("does not ask evaluation clients for a certificate", async () => {
		const client = createClient(
			EvaluationServiceV1,
			createGrpcTransport({
				baseUrl: `https://localhost:${daemon.ports.evaluation}`,
				nodeOptions: { ca },
			}),
		);
		expect(
			(await client.resolveBoolean({ flagKey: "bool-flag" })).variant,
		).toBe("off");
	});
});
