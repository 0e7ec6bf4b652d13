import {
	createSecureServer,
	createServer,
	type Http2SecureServer,
	type Http2Server,
	type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
	FlagSyncService,
	type SyncFlagsResponse,
	SyncFlagsResponseSchema,
} from "@flagd-ts/protocol/sync-v1";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../../../../../test/support/tls-fixtures.js";
import {
	flagDocument,
	syncTestRun,
	waitFor,
} from "../testdata/sync-test-kit.js";
import { GrpcSync, type GrpcSyncOptions } from "./grpc-sync.js";

const run = syncTestRun();

/** One open SyncFlags stream on the test server: the test pushes messages or ends it. */
interface OpenStream {
	readonly request: { providerId: string; selector: string };
	readonly headers: Headers;
	push(message: SyncFlagsResponse): void;
	end(error?: Error): void;
}

/** A real flagd.sync.v1 server (connect-node adapter on node:http2) that the test drives stream by stream. */
class SyncServer {
	readonly streams: OpenStream[] = [];
	snapshot = flagDocument("on");
	syncContext: Record<string, string> | undefined = { env: "test" };
	private server: Http2Server | Http2SecureServer | undefined;
	private readonly sessions = new Set<ServerHttp2Session>();
	port = 0;

	constructor(private readonly tls?: { key: Buffer; cert: Buffer }) {}

	async start(port = 0): Promise<void> {
		const handler = connectNodeAdapter({
			routes: (router: ConnectRouter) =>
				router.service(FlagSyncService, {
					syncFlags: (req, ctx) =>
						this.openStream(req, ctx.requestHeader, ctx.signal),
					fetchAllFlags: () => ({ flagConfiguration: this.snapshot }),
					getMetadata: () => ({}),
				}),
		});
		const server =
			this.tls === undefined
				? createServer(handler)
				: createSecureServer(this.tls, handler);
		server.on("session", (s: ServerHttp2Session) => {
			this.sessions.add(s);
			s.on("close", () => this.sessions.delete(s));
		});
		await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
		this.port = (server.address() as AddressInfo).port;
		this.server = server;
	}

	async stop(): Promise<void> {
		for (const stream of this.streams) stream.end();
		for (const s of this.sessions) s.destroy();
		const server = this.server;
		this.server = undefined;
		if (server !== undefined) await new Promise((r) => server.close(r));
	}

	private async *openStream(
		req: { providerId: string; selector: string },
		headers: Headers,
		signal: AbortSignal,
	): AsyncIterable<SyncFlagsResponse> {
		const queue: SyncFlagsResponse[] = [];
		let ended: { error?: Error } | undefined;
		let wake: (() => void) | undefined;
		const stream: OpenStream = {
			request: { providerId: req.providerId, selector: req.selector },
			headers,
			push: (m) => {
				queue.push(m);
				wake?.();
			},
			end: (error) => {
				ended = error === undefined ? {} : { error };
				wake?.();
			},
		};
		signal.addEventListener("abort", () => stream.end(), { once: true });
		this.streams.push(stream);
		stream.push(this.message(this.snapshot));
		for (;;) {
			const next = queue.shift();
			if (next !== undefined) {
				yield next;
				continue;
			}
			if (ended !== undefined) {
				if (ended.error !== undefined) throw ended.error;
				return;
			}
			await new Promise<void>((r) => {
				wake = r;
			});
		}
	}

	message(flagConfiguration: string): SyncFlagsResponse {
		return create(SyncFlagsResponseSchema, {
			flagConfiguration,
			...(this.syncContext !== undefined
				? { syncContext: this.syncContext }
				: {}),
		});
	}

	get latest(): OpenStream {
		const stream = this.streams.at(-1);
		if (stream === undefined) throw new Error("no stream open");
		return stream;
	}
}

let server: SyncServer;

afterEach(async () => {
	await server?.stop();
});

function start(options: Partial<GrpcSyncOptions> & { uri: string }) {
	const source = new GrpcSync({
		backoff: { initialDelayMs: 20, maxDelayMs: 100 },
		logger: run.logger(),
		...options,
	});
	return run.collect(source);
}

describe("GrpcSync", () => {
	it("receives the first snapshot with sync_context, sending provider id, selector and metadata", async () => {
		server = new SyncServer();
		await server.start();
		const uri = `grpc://127.0.0.1:${server.port}`;
		const { source, collector } = start({
			uri,
			providerId: "daemon-a",
			selector: "flagSetId=team",
			headers: { authorization: "Bearer t0ken" },
		});
		const first = await collector.next();
		expect(first).toEqual({
			source: uri,
			content: flagDocument("on"),
			format: "json",
			syncContext: { env: "test" },
		});
		expect(source.isReady()).toBe(true);
		expect(server.latest.request).toEqual({
			providerId: "daemon-a",
			selector: "flagSetId=team",
		});
		expect(server.latest.headers.get("flagd-selector")).toBe("flagSetId=team");
		expect(server.latest.headers.get("authorization")).toBe("Bearer t0ken");
	});

	it("emits every pushed snapshot, and skips an invalid one with a warning", async () => {
		server = new SyncServer();
		await server.start();
		const { collector } = start({ uri: `127.0.0.1:${server.port}` });
		await collector.next();
		server.latest.push(server.message("{not json"));
		server.latest.push(server.message(flagDocument("off")));
		expect((await collector.next()).content).toBe(flagDocument("off"));
		expect(run.warnings()).toHaveLength(1);
		expect(String(run.warnings()[0]?.fields.error)).toMatch(/not valid JSON/);
	});

	it("reconnects after the server ends the stream cleanly and after it fails the stream", async () => {
		server = new SyncServer();
		await server.start();
		const { collector } = start({ uri: `grpc://127.0.0.1:${server.port}` });
		await collector.next();
		server.snapshot = flagDocument("off");
		server.latest.end();
		expect((await collector.next()).content).toBe(flagDocument("off"));
		expect(server.streams).toHaveLength(2);
		server.snapshot = flagDocument("on");
		server.latest.end(new ConnectError("going away", Code.Unavailable));
		expect((await collector.next()).content).toBe(flagDocument("on"));
		expect(server.streams).toHaveLength(3);
		expect(run.warnings().map((w) => w.message)).toEqual([
			"sync stream ended by the server; reconnecting",
			"sync stream failed; keeping the last good flags and reconnecting",
		]);
	});

	it("keeps retrying with backoff while the server is down, and resumes when it restarts on the same port", async () => {
		server = new SyncServer();
		await server.start();
		const port = server.port;
		const { collector } = start({ uri: `grpc://127.0.0.1:${port}` });
		await collector.next();
		await server.stop();
		await waitFor(
			() => run.warnings().length >= 3,
			"several failed reconnects",
		);
		expect(collector.ended).toBe(false);
		server = new SyncServer();
		server.snapshot = flagDocument("off");
		await server.start(port);
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("rejects the iteration when the first SyncFlags call fails", async () => {
		server = new SyncServer();
		await server.start();
		const port = server.port;
		await server.stop();
		const { source, collector } = start({ uri: `grpc://127.0.0.1:${port}` });
		await collector.done;
		expect(collector.error).toMatchObject({ code: "SOURCE_UNAVAILABLE" });
		expect(String(collector.error)).toMatch(/SyncFlags failed/);
		expect(source.isReady()).toBe(false);
	});

	it("enforces maxMsgSizeBytes and passes a 10 MB snapshot when the limit allows it", async () => {
		server = new SyncServer();
		server.snapshot = flagDocument("on", {
			big: {
				state: "ENABLED",
				variants: { a: "z".repeat(10 * 1024 * 1024) },
				defaultVariant: "a",
			},
		});
		await server.start();
		const small = start({ uri: `grpc://127.0.0.1:${server.port}` });
		await small.collector.done;
		expect(String(small.collector.error)).toMatch(/maxMsgSizeBytes/);
		const large = start({
			uri: `grpc://127.0.0.1:${server.port}`,
			maxMsgSizeBytes: 16 * 1024 * 1024,
		});
		expect(((await large.collector.next()).content as string).length).toBe(
			server.snapshot.length,
		);
	});

	it("resync fetches the full state with FetchAllFlags", async () => {
		server = new SyncServer();
		await server.start();
		const { source, collector } = start({
			uri: `grpc://127.0.0.1:${server.port}`,
		});
		await collector.next();
		server.snapshot = flagDocument("off");
		const payload = await source.resync(run.signal);
		expect(payload).toMatchObject({
			content: flagDocument("off"),
			syncContext: { env: "test" },
		});
	});

	it("rejects envoy:// targets clearly", () => {
		expect(() => new GrpcSync({ uri: "envoy://localhost:9211/svc" })).toThrow(
			/not supported/,
		);
	});

	describe("over TLS with a CA generated by the test", () => {
		let fixtures: TlsFixtures;
		let tls: { key: Buffer; cert: Buffer };

		beforeAll(() => {
			fixtures = createTlsFixtures();
			tls = { key: fixtures.serverKey, cert: fixtures.serverCert };
		});

		afterAll(() => fixtures.remove());

		it("connects with grpcs:// and certPath", async () => {
			server = new SyncServer(tls);
			await server.start();
			const { collector } = start({
				uri: `grpcs://localhost:${server.port}`,
				certPath: fixtures.caCertPath,
			});
			expect((await collector.next()).content).toBe(flagDocument("on"));
		});

		it("fails the first call when the CA is not trusted", async () => {
			server = new SyncServer(tls);
			await server.start();
			const { collector } = start({
				uri: `localhost:${server.port}`,
				tls: true,
			});
			await collector.done;
			expect(String(collector.error)).toMatch(/certificate/i);
		});

		it("reports an unreadable certPath", async () => {
			server = new SyncServer(tls);
			await server.start();
			const { collector } = start({
				uri: `grpcs://localhost:${server.port}`,
				certPath: join(fixtures.dir, "nope.crt"),
			});
			await collector.done;
			expect(String(collector.error)).toMatch(/cannot read certPath/);
		});
	});
});
