/**
 * startDaemon's lifecycle: readiness once every source delivered, /readyz 412 until then, exit-on-first-failure
 * (the default) vs continue, listen failures, metrics on /metrics, and close() leaving no handle behind (Jest runs
 * with the default open-handle check; every daemon here is closed).
 */

import net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "@jest/globals";
import { HealthService } from "../../packages/daemon/src/api/management/grpc-health.js";
import { isDaemonError } from "../../packages/daemon/src/errors.js";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

async function status(
	daemon: RunningDaemon,
	path: string,
): Promise<{ status: number; text: string }> {
	const res = await fetch(`http://127.0.0.1:${daemon.ports.management}${path}`);
	return { status: res.status, text: await res.text() };
}

function refusesConnections(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(port, "127.0.0.1");
		socket.once("connect", () => {
			socket.destroy();
			resolve(false);
		});
		socket.once("error", () => resolve(true));
	});
}

describe("readiness", () => {
	it("answers /healthz at once and /readyz 412 until every source delivered its first valid payload", async () => {
		const first = new MemorySource("mem:first", BASIC_FLAGS);
		const second = new MemorySource("mem:second");
		// `continue`: an unusable first document leaves its source not ready (with `exit`, the default, it stops the
		// daemon, as the next test shows).
		const daemon = await startTestDaemon([first, second], {
			onSourceStartupFailure: "continue",
		});
		try {
			expect(await status(daemon, "/healthz")).toEqual({
				status: 200,
				text: "OK\n",
			});
			await waitFor(
				() => daemon.store.isSourceReady("mem:first"),
				2_000,
				"first source",
			);
			expect((await status(daemon, "/readyz")).status).toBe(412);
			second.push("{ not json");
			expect((await status(daemon, "/readyz")).status).toBe(412);
			second.push({ flags: {} });
			await daemon.ready;
			expect(await status(daemon, "/readyz")).toEqual({
				status: 200,
				text: "OK\n",
			});
			expect((await status(daemon, "/other")).status).toBe(404);
		} finally {
			await daemon.close();
		}
	});

	it("stops (ready rejects) when a source's first document is unusable, in exit mode", async () => {
		const bad = new MemorySource("mem:bad", "{ not json");
		const daemon = await startTestDaemon([bad]);
		try {
			await expect(daemon.ready).rejects.toMatchObject({
				code: "SOURCE_PAYLOAD_INVALID",
				message: expect.stringMatching(
					/^source mem:bad: invalid flag document: /,
				),
			});
		} finally {
			await daemon.close();
		}
	});

	it("serves flags from the first source while another is still pending", async () => {
		const daemon = await startTestDaemon([
			new MemorySource("mem:a", BASIC_FLAGS),
			new MemorySource("mem:b"),
		]);
		try {
			await waitFor(
				() => daemon.store.isSourceReady("mem:a"),
				2_000,
				"first source",
			);
			const client = createClient(
				EvaluationServiceV2,
				createConnectTransport({
					baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
					httpVersion: "1.1",
				}),
			);
			expect(
				(await client.resolveBoolean({ flagKey: "bool-flag" })).variant,
			).toBe("off");
		} finally {
			await daemon.close();
		}
	});
});

describe("source startup failures", () => {
	it("exit (default): a source failing before its first payload rejects ready and stops the daemon", async () => {
		const broken = new MemorySource("mem:broken");
		const daemon = await startTestDaemon([
			new MemorySource("mem:ok", BASIC_FLAGS),
			broken,
		]);
		broken.fail(new Error("connection refused"));
		const failure = await daemon.ready.catch((e: unknown) => e);
		expect(isDaemonError(failure)).toBe(true);
		expect((failure as { code: string }).code).toBe("SOURCE_UNAVAILABLE");
		expect((failure as Error).message).toContain("mem:broken");
		expect((failure as Error).message).toContain("connection refused");
		await daemon.close();
		expect(await refusesConnections(daemon.ports.management)).toBe(true);
	});

	it("exit (default): a source whose init throws synchronously rejects ready without crashing", async () => {
		const broken = new MemorySource("mem:sync-throw");
		broken.init = () => {
			throw new Error("bad config");
		};
		const daemon = await startTestDaemon([broken]);
		const failure = await daemon.ready.catch((e: unknown) => e);
		expect((failure as Error).message).toContain("bad config");
		await daemon.close();
	});

	it("exit (default): a source that cannot be created rejects startDaemon and binds nothing", async () => {
		const failure = await startTestDaemon(
			[new MemorySource("mem:ok", BASIC_FLAGS)],
			{},
			{
				createSource: async () => {
					throw new Error("unsupported URI");
				},
			},
		).catch((e: unknown) => e);
		expect(isDaemonError(failure)).toBe(true);
		expect((failure as Error).message).toMatch(
			/cannot create sync source mem:ok: unsupported URI/,
		);
	});

	it("continue: the failed source is logged and reported not ready; the others keep serving", async () => {
		const broken = new MemorySource("mem:broken");
		const lines: string[] = [];
		const logger = {
			debug() {},
			info() {},
			warn() {},
			error(_fields: Record<string, unknown>, message: string) {
				lines.push(message);
			},
			child() {
				return logger;
			},
		};
		const daemon = await startTestDaemon(
			[new MemorySource("mem:ok", BASIC_FLAGS), broken],
			{ onSourceStartupFailure: "continue" },
			{ logger },
		);
		try {
			broken.fail(new Error("boom"));
			await waitFor(
				() => lines.some((l) => l.includes("boom")),
				2_000,
				"failure log",
			);
			expect((await status(daemon, "/readyz")).status).toBe(412);
			const res = await fetch(
				`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/bool-flag`,
				{ method: "POST" },
			);
			expect(res.status).toBe(200);
			await res.text();
		} finally {
			await daemon.close();
		}
	});

	it("fails with LISTEN_FAILED when a port is taken, leaving nothing bound", async () => {
		const blocker = net.createServer();
		await new Promise<void>((resolve) =>
			blocker.listen(0, "127.0.0.1", () => resolve()),
		);
		const port = (blocker.address() as net.AddressInfo).port;
		try {
			const failure = await startTestDaemon(
				[new MemorySource("mem:x", BASIC_FLAGS)],
				{ ofrepPort: port },
			).catch((e: unknown) => e);
			expect((failure as { code: string }).code).toBe("LISTEN_FAILED");
			expect((failure as Error).message).toContain(
				`ofrep listener cannot bind 127.0.0.1:${port}`,
			);
		} finally {
			await new Promise<void>((resolve) => blocker.close(() => resolve()));
		}
	});
});

describe("gRPC health check (management port, h2c)", () => {
	// Hand-framed messages: HealthCheckRequest { service = 1 } and HealthCheckResponse { status = 1 }.
	function check(
		port: number,
		service: string,
	): Promise<{ status?: number; code?: number }> {
		const client = new grpc.Client(
			`127.0.0.1:${port}`,
			grpc.credentials.createInsecure(),
		);
		const request = Buffer.concat([
			Buffer.from([0x0a, service.length]),
			Buffer.from(service),
		]);
		return new Promise((resolve) => {
			client.makeUnaryRequest(
				"/grpc.health.v1.Health/Check",
				() => (service === "" ? Buffer.alloc(0) : request),
				(buf: Buffer) => buf,
				{},
				(err, value) => {
					client.close();
					if (err) resolve({ code: err.code });
					else resolve({ status: value?.[1] });
				},
			);
		});
	}

	it("reports NOT_SERVING until ready, then SERVING; unknown services are NOT_FOUND", async () => {
		const late = new MemorySource("mem:late");
		const daemon = await startTestDaemon([late]);
		try {
			expect(await check(daemon.ports.management, "")).toEqual({ status: 2 });
			late.push({ flags: {} });
			await daemon.ready;
			expect(await check(daemon.ports.management, "")).toEqual({ status: 1 });
			expect(
				await check(daemon.ports.management, "flagd.evaluation.v2.Service"),
			).toEqual({ status: 1 });
			expect(await check(daemon.ports.management, "nope.Service")).toEqual({
				code: grpc.status.NOT_FOUND,
			});
			expect((await status(daemon, "/healthz")).status).toBe(200);
		} finally {
			await daemon.close();
		}
	});
});

describe("gRPC health check with a connect gRPC client", () => {
	it("answers Check SERVING once ready, NOT_FOUND for an unknown service, UNIMPLEMENTED for Watch", async () => {
		const late = new MemorySource("mem:late");
		const daemon = await startTestDaemon([late]);
		try {
			const client = createClient(
				HealthService,
				createGrpcTransport({
					baseUrl: `http://127.0.0.1:${daemon.ports.management}`,
				}),
			);
			const check = (service: string) =>
				(
					client as unknown as {
						check(r: { service: string }): Promise<{ status: number }>;
					}
				).check({ service });
			expect((await check("")).status).toBe(2);
			late.push({ flags: {} });
			await daemon.ready;
			expect((await check("")).status).toBe(1);
			expect((await check("flagd.evaluation.v2.Service")).status).toBe(1);
			const notFound = await check("nope.Service").catch((e: unknown) => e);
			expect(ConnectError.from(notFound).code).toBe(Code.NotFound);
			expect(ConnectError.from(notFound).rawMessage).toBe("unknown service");
			const watch = (
				client as unknown as {
					watch(r: { service: string }): AsyncIterable<unknown>;
				}
			).watch({ service: "" });
			const watched = await (async () => {
				for await (const _ of watch) return undefined;
			})().catch((e: unknown) => e);
			expect(ConnectError.from(watched).code).toBe(Code.Unimplemented);
		} finally {
			await daemon.close();
		}
	});

	it("answers a malformed HealthCheckRequest with an error status and keeps serving", async () => {
		const daemon = await startTestDaemon([
			new MemorySource("mem:m", BASIC_FLAGS),
		]);
		try {
			await daemon.ready;
			const client = new grpc.Client(
				`127.0.0.1:${daemon.ports.management}`,
				grpc.credentials.createInsecure(),
			);
			// Field 1 (a string) claims 5 bytes but only 1 follows.
			const code = await new Promise<number | undefined>((resolve) => {
				client.makeUnaryRequest(
					"/grpc.health.v1.Health/Check",
					() => Buffer.from([0x0a, 0x05, 0x61]),
					(buf: Buffer) => buf,
					{},
					(err) => {
						client.close();
						resolve(err?.code);
					},
				);
			});
			expect(code).toBe(grpc.status.INVALID_ARGUMENT);
			expect((await status(daemon, "/healthz")).status).toBe(200);
		} finally {
			await daemon.close();
		}
	});
});

describe("metrics and shutdown", () => {
	it("exposes flagd's metric names on /metrics", async () => {
		const daemon = await startTestDaemon([
			new MemorySource("mem:m", BASIC_FLAGS),
		]);
		try {
			await daemon.ready;
			const client = createClient(
				EvaluationServiceV2,
				createConnectTransport({
					baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
					httpVersion: "1.1",
				}),
			);
			await client.resolveBoolean({ flagKey: "bool-flag" });
			await client.resolveBoolean({ flagKey: "nope" }).catch(() => undefined);
			const { status: code, text } = await status(daemon, "/metrics");
			expect(code).toBe(200);
			expect(text).toContain(
				'feature_flag_flagd_impression_total{feature_flag_key="bool-flag",feature_flag_result_variant="off",feature_flag_provider_name="flagd",feature_flag_reason="STATIC"} 1',
			);
			expect(text).toMatch(
				/feature_flag_flagd_result_reason_total\{[^}]*feature_flag_reason="ERROR"[^}]*exception_type="FLAG_NOT_FOUND"\} 1/,
			);
			expect(text).toMatch(
				/http_server_request_duration_seconds_count\{[^}]*http_route="\/flagd.evaluation.v2.Service\/ResolveBoolean"[^}]*http_response_status_code="200"/,
			);
			expect(text).toContain("feature_flag_flagd_sync_active_streams");
		} finally {
			await daemon.close();
		}
	});

	it("counts each HTTP/2 call once with its status, whether served from the stream or through CORS", async () => {
		const daemon = await startTestDaemon([
			new MemorySource("mem:h2", BASIC_FLAGS),
		]);
		try {
			await daemon.ready;
			const baseUrl = `http://127.0.0.1:${daemon.ports.evaluation}`;
			const grpcClient = createClient(
				EvaluationServiceV2,
				createGrpcTransport({ baseUrl }),
			);
			const connectClient = createClient(
				EvaluationServiceV2,
				createConnectTransport({ baseUrl, httpVersion: "2" }),
			);
			// A browser's call: with an Origin, it takes the CORS path.
			const browserClient = createClient(
				EvaluationServiceV2,
				createConnectTransport({
					baseUrl,
					httpVersion: "2",
					interceptors: [
						(next) => (req) => {
							req.header.set("origin", "https://app.example");
							return next(req);
						},
					],
				}),
			);
			await grpcClient.resolveBoolean({ flagKey: "bool-flag" });
			await grpcClient.resolveBoolean({ flagKey: "bool-flag" });
			await connectClient.resolveBoolean({ flagKey: "bool-flag" });
			await browserClient.resolveBoolean({ flagKey: "bool-flag" });
			await connectClient
				.resolveBoolean({ flagKey: "nope" })
				.catch(() => undefined);
			const { text } = await status(daemon, "/metrics");
			const count = (code: string): number => {
				const line = text
					.split("\n")
					.find(
						(l) =>
							l.startsWith("http_server_request_duration_seconds_count{") &&
							l.includes(
								'http_route="/flagd.evaluation.v2.Service/ResolveBoolean"',
							) &&
							l.includes(`http_response_status_code="${code}"`),
					);
				return line === undefined ? 0 : Number(line.split(" ").at(-1));
			};
			expect(count("200")).toBe(4);
			expect(count("404")).toBe(1);
		} finally {
			await daemon.close();
		}
	});

	it("close() is idempotent and releases every port", async () => {
		const daemon = await startTestDaemon([
			new MemorySource("mem:c", BASIC_FLAGS),
		]);
		await daemon.ready;
		await Promise.all([daemon.close(), daemon.close()]);
		for (const port of [
			daemon.ports.evaluation,
			daemon.ports.management,
			daemon.ports.sync,
			daemon.ports.ofrep,
		]) {
			expect(await refusesConnections(port ?? 0)).toBe(true);
		}
	});
});
