/**
 * The Envoy stand-ins against real h2c servers on 127.0.0.1: routing by :authority with body and trailers
 * forwarded, 503 when the upstream is down, and the forbidden listener's 403 read by a gRPC client as
 * PERMISSION_DENIED.
 */
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Service as EvaluationV2 } from "@flagd-ts/protocol/evaluation-v2";
import { afterEach, describe, expect, it } from "@jest/globals";
import { startForbiddenProxy } from "./forbidden-proxy.js";
import { pickFreePorts } from "./free-ports.js";
import { startTargetUriRouter } from "./target-uri-router.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An h2c server that answers with its name, the echoed body and a trailer. */
async function startEchoServer(name: string): Promise<number> {
	const sessions = new Set<http2.ServerHttp2Session>();
	const server = http2.createServer();
	server.on("session", (s) => {
		sessions.add(s);
		s.on("close", () => sessions.delete(s));
	});
	server.on("stream", (stream, headers) => {
		const chunks: Buffer[] = [];
		stream.on("data", (c: Buffer) => chunks.push(c));
		stream.on("end", () => {
			stream.respond(
				{ ":status": 200, "x-upstream": name },
				{ waitForTrailers: true },
			);
			stream.on("wantTrailers", () =>
				stream.sendTrailers({ "x-trailer": `${name}-done` }),
			);
			stream.end(
				`${name}:${String(headers[":path"])}:${Buffer.concat(chunks).toString()}`,
			);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	cleanups.push(
		() =>
			new Promise<void>((resolve) => {
				for (const s of sessions) s.destroy();
				server.close(() => resolve());
			}),
	);
	const address = server.address();
	if (address === null || typeof address === "string")
		throw new Error("no address");
	return address.port;
}

async function request(
	port: number,
	authority: string,
	body: string,
): Promise<{
	status: number;
	upstream: unknown;
	text: string;
	trailer: unknown;
}> {
	const session = http2.connect(`http://127.0.0.1:${port}`);
	cleanups.push(async () => {
		session.destroy();
	});
	const stream = session.request({
		":method": "POST",
		":path": "/svc/Method",
		":authority": authority,
	});
	stream.end(body);
	return new Promise((resolve, reject) => {
		let status = 0;
		let upstream: unknown;
		let trailer: unknown;
		const chunks: Buffer[] = [];
		stream.on("response", (h) => {
			status = Number(h[":status"]);
			upstream = h["x-upstream"];
		});
		stream.on("trailers", (t) => {
			trailer = t["x-trailer"];
		});
		stream.on("data", (c: Buffer) => chunks.push(c));
		stream.on("end", () =>
			resolve({
				status,
				upstream,
				text: Buffer.concat(chunks).toString(),
				trailer,
			}),
		);
		stream.on("error", reject);
	});
}

describe("targetUri router", () => {
	it("routes rpc.service to the evaluation upstream and sync.service to the sync upstream", async () => {
		const evaluation = await startEchoServer("evaluation");
		const sync = await startEchoServer("sync");
		const router = await startTargetUriRouter({
			evaluation: { host: "127.0.0.1", port: evaluation },
			sync: { host: "127.0.0.1", port: sync },
		});
		cleanups.push(() => router.close());
		await expect(request(router.port, "rpc.service", "hello")).resolves.toEqual(
			{
				status: 200,
				upstream: "evaluation",
				text: "evaluation:/svc/Method:hello",
				trailer: "evaluation-done",
			},
		);
		await expect(
			request(router.port, "sync.service", "x"),
		).resolves.toMatchObject({
			upstream: "sync",
			trailer: "sync-done",
		});
		expect(router.authorities).toEqual(["rpc.service", "sync.service"]);
	});

	it("answers 503 while the upstream is down", async () => {
		const [closedPort = 0] = await pickFreePorts(1);
		const router = await startTargetUriRouter({
			evaluation: { host: "127.0.0.1", port: closedPort },
			sync: { host: "127.0.0.1", port: closedPort },
		});
		cleanups.push(() => router.close());
		await expect(
			request(router.port, "rpc.service", "x"),
		).resolves.toMatchObject({ status: 503 });
	});
});

describe("forbidden listener", () => {
	it("is read as PERMISSION_DENIED by a gRPC client", async () => {
		const forbidden = await startForbiddenProxy();
		cleanups.push(() => forbidden.close());
		const client = createClient(
			EvaluationV2,
			createGrpcTransport({ baseUrl: `http://127.0.0.1:${forbidden.port}` }),
		);
		const error = await client
			.resolveBoolean({ flagKey: "x" })
			.catch((e: unknown) => e);
		expect(ConnectError.from(error).code).toBe(Code.PermissionDenied);
		expect(forbidden.requestCount).toBe(1);
	});
});
