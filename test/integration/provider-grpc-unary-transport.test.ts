/**
 * The provider's slim gRPC unary transport (packages/provider/src/grpc-unary-transport.ts) against connect-node's
 * own gRPC transport, both on one Http2SessionManager, against a real connect-node server (the fake flagd):
 * interceptors see every unary call and the event stream and can change headers; answers, server errors,
 * deadlines and cancellation come out the same as from connect-node's transport.
 */
import * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	createClient,
	type Interceptor,
	type Transport,
} from "@connectrpc/connect";
import {
	createGrpcTransport,
	Http2SessionManager,
} from "@connectrpc/connect-node";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import { createGrpcUnaryTransport } from "../../packages/provider/src/grpc-unary-transport.js";
import { type FakeFlagd, startFakeFlagd } from "../support/fake-flagd.js";

let server: FakeFlagd;
const managers: Http2SessionManager[] = [];

beforeAll(async () => {
	server = await startFakeFlagd({
		flags: {
			"bool-flag": { value: true, variant: "on", metadata: { team: "a" } },
		},
	});
});

afterEach(() => {
	for (const m of managers.splice(0)) m.abort();
	server.behaviour.evaluationDelayMs = 0;
	server.behaviour.evaluationErrorCode = undefined;
});

afterAll(async () => {
	await server.close();
});

function transports(
	interceptors: Interceptor[] = [],
	baseUrl = `http://127.0.0.1:${server.port}`,
): {
	slim: Transport;
	reference: Transport;
} {
	const sessionManager = new Http2SessionManager(baseUrl);
	managers.push(sessionManager);
	const reference = createGrpcTransport({
		baseUrl,
		sessionManager,
		interceptors,
	});
	return {
		slim: createGrpcUnaryTransport({
			baseUrl,
			sessionManager,
			interceptors,
			streamTransport: reference,
		}),
		reference,
	};
}

/** A call with a 100 ms deadline on `transport` ends with DeadlineExceeded. */
async function expectDeadlineExceeded(transport: Transport): Promise<void> {
	const client = createClient(EvaluationServiceV2, transport);
	expect(
		await outcome(
			client.resolveBoolean({ flagKey: "bool-flag" }, { timeoutMs: 100 }),
		),
	).toEqual({ code: "DeadlineExceeded" });
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		(value) => ({ value }),
		(err: unknown) => {
			const e = ConnectError.from(err);
			return { code: Code[e.code] };
		},
	);
}

describe("grpc-unary-transport", () => {
	it("runs interceptors on every unary call and on the event stream", async () => {
		const seen: string[] = [];
		const tagging: Interceptor = (next) => (req) => {
			seen.push(`${req.stream ? "stream" : "unary"}:${req.method.name}`);
			req.header.set("x-tag", "from-interceptor");
			return next(req);
		};
		const { slim } = transports([tagging]);
		const client = createClient(EvaluationServiceV2, slim);
		await client.resolveBoolean({ flagKey: "bool-flag" });
		const controller = new AbortController();
		for await (const message of client.eventStream(
			{},
			{ signal: controller.signal },
		)) {
			expect(message.type).toBe("provider_ready");
			break;
		}
		controller.abort();
		expect(seen).toEqual(["unary:ResolveBoolean", "stream:EventStream"]);
		const tags = server.requests.map((r) => r.headers.get("x-tag"));
		expect(tags).toContain("from-interceptor");
		expect(
			server.requests
				.filter((r) => r.method === "ResolveBoolean")
				.every((r) => r.headers.get("x-tag") === "from-interceptor"),
		).toBe(true);
	});

	it("rejects (does not throw) when an interceptor throws, like connect-node's transport", async () => {
		const failing: Interceptor = () => () => {
			throw new ConnectError("refused by interceptor", Code.PermissionDenied);
		};
		const { slim, reference } = transports([failing]);
		for (const t of [slim, reference]) {
			let thrown: unknown;
			let call: Promise<unknown> | undefined;
			try {
				// The transport itself (a generated client's async wrapper would hide a synchronous throw).
				call = outcome(
					t.unary(
						EvaluationServiceV2.method.resolveBoolean,
						undefined,
						undefined,
						undefined,
						{ flagKey: "bool-flag" },
					),
				);
			} catch (err: unknown) {
				thrown = err;
			}
			expect(thrown).toBeUndefined();
			expect(await call).toEqual({ code: "PermissionDenied" });
		}
	});

	it("answers like connect-node's gRPC transport: values, server errors, unknown flags", async () => {
		const { slim, reference } = transports();
		const clients = [slim, reference].map((t) =>
			createClient(EvaluationServiceV2, t),
		);
		const request = create(EvaluationServiceV2.method.resolveBoolean.input, {
			flagKey: "bool-flag",
			context: { a: 1, nested: { b: ["x", true, null] } },
		});
		const [a, b] = await Promise.all(
			clients.map((c) => outcome(c.resolveBoolean(request))),
		);
		expect(a).toEqual(b);
		expect(a).toMatchObject({ value: { value: true, variant: "on" } });
		const [c, d] = await Promise.all(
			clients.map((c) => outcome(c.resolveBoolean({ flagKey: "missing" }))),
		);
		expect(c).toEqual(d);
		server.behaviour.evaluationErrorCode = Code.PermissionDenied;
		const [e, f] = await Promise.all(
			clients.map((c) => outcome(c.resolveBoolean({ flagKey: "bool-flag" }))),
		);
		expect(e).toEqual({ code: "PermissionDenied" });
		expect(f).toEqual(e);
	});

	it("ends a call at its deadline and on its signal, like connect-node's transport", async () => {
		const { slim, reference } = transports();
		server.behaviour.evaluationDelayMs = 5000;
		for (const t of [slim, reference]) {
			await expectDeadlineExceeded(t);
			const client = createClient(EvaluationServiceV2, t);
			const controller = new AbortController();
			const call = outcome(
				client.resolveBoolean(
					{ flagKey: "bool-flag" },
					{ signal: controller.signal },
				),
			);
			controller.abort();
			expect(await call).toEqual({ code: "Canceled" });
		}
	});

	it("ends a call at its deadline while the connection is still being set up, like connect-node's transport", async () => {
		// A listener that accepts TCP and never answers the TLS handshake: the session manager stays in its dial.
		const sockets = new Set<net.Socket>();
		const silent = net.createServer((socket) => {
			sockets.add(socket);
			socket.on("error", () => {});
		});
		await new Promise<void>((resolve) =>
			silent.listen(0, "127.0.0.1", resolve),
		);
		try {
			const { port } = silent.address() as net.AddressInfo;
			const { slim, reference } = transports([], `https://127.0.0.1:${port}`);
			await expectDeadlineExceeded(slim);
			await expectDeadlineExceeded(reference);
			expect(sockets.size).toBeGreaterThan(0);
		} finally {
			for (const m of managers.splice(0)) m.abort();
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => silent.close(() => resolve()));
		}
	});
});
