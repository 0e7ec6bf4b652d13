/**
 * FlagdProvider connection options against a real in-test flagd server: gRPC and Connect (HTTP/1.1 and HTTP/2),
 * TLS with a generated CA (`certPath`), unix sockets (`socketPath`), `targetUri` (envoy-style authority routing
 * through a TCP proxy), `defaultAuthority`, and HTTP/2 keepalive pings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import { ErrorCode, OpenFeature } from "@openfeature/server-sdk";
import { type FakeFlagd, startFakeFlagd } from "../support/fake-flagd.js";
import {
	quietLogger,
	recordingLogger,
} from "../support/provider-test-helpers.js";
import { runTsChild } from "../support/run-child.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";

const flags = { "bool-flag": { value: true, variant: "on" } };
let plain: FakeFlagd;
let secure: FakeFlagd;
let unix: FakeFlagd;
let tlsFiles: TlsFixtures;
let socketDir: string;
let domainCounter = 0;
const providers: FlagdProvider[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
	tlsFiles = createTlsFixtures(["flagd.internal"]);
	socketDir = mkdtempSync(path.join(tmpdir(), "flagd-sock-"));
	plain = await startFakeFlagd({ flags });
	secure = await startFakeFlagd({
		flags,
		tls: { key: tlsFiles.serverKey, cert: tlsFiles.serverCert },
	});
	unix = await startFakeFlagd({
		flags,
		socketPath: path.join(socketDir, "flagd.sock"),
	});
});

afterEach(async () => {
	await OpenFeature.clearProviders();
	for (const p of providers.splice(0)) await p.onClose();
	for (const p of proxies.splice(0)) await p.close();
});

afterAll(async () => {
	await OpenFeature.close();
	await Promise.all([plain.close(), secure.close(), unix.close()]);
	tlsFiles.remove();
	rmSync(socketDir, { recursive: true, force: true });
});

async function evaluate(options: FlagdProviderOptions): Promise<boolean> {
	const provider = new FlagdProvider({
		env: {},
		logger: quietLogger,
		// These tests are about the transports, not the deadline: the default 500 ms is too short for the first
		// connection (and the gRPC/TLS handshakes) when every core of a CI machine is busy.
		deadlineMs: 10_000,
		...options,
	});
	providers.push(provider);
	const domain = `transport-${domainCounter++}`;
	await OpenFeature.setProviderAndWait(domain, provider);
	const details = await OpenFeature.getClient(domain).getBooleanDetails(
		"bool-flag",
		false,
	);
	expect(details.errorCode).toBeUndefined();
	return details.value;
}

const transports = [
	["grpc", undefined],
	["connect", "2"],
	["connect", "1.1"],
] as const;

describe.each(transports)(
	"transport %s (HTTP %s)",
	(transport, httpVersion) => {
		const base = {
			transport,
			...(httpVersion ? { httpVersion } : {}),
		} as const;

		it.each(["v2", "v1"] as const)(
			"evaluates over TCP with API %s",
			async (apiVersion) => {
				expect(
					await evaluate({
						...base,
						apiVersion,
						host: "127.0.0.1",
						port: plain.port,
					}),
				).toBe(true);
				expect(plain.requests.at(-1)?.api).toBe(apiVersion);
			},
		);

		it("evaluates over TLS trusting a custom CA from certPath", async () => {
			expect(
				await evaluate({
					...base,
					host: "localhost",
					port: secure.port,
					tls: true,
					certPath: tlsFiles.caCertPath,
				}),
			).toBe(true);
		});

		it("evaluates over a unix socket", async () => {
			expect(
				await evaluate({
					...base,
					socketPath: path.join(socketDir, "flagd.sock"),
				}),
			).toBe(true);
		});

		it("routes by authority with an envoy:// targetUri and sends the authority", async () => {
			const proxy = await startTcpProxy({
				target: { host: "127.0.0.1", port: plain.port },
			});
			proxies.push(proxy);
			expect(
				await evaluate({
					...base,
					targetUri: `envoy://127.0.0.1:${proxy.port}/rpc.service`,
				}),
			).toBe(true);
			expect(new URL(plain.requests.at(-1)?.url ?? "http://x").host).toBe(
				"rpc.service",
			);
			expect(proxy.acceptedCount).toBeGreaterThan(0);
		});

		it("sends defaultAuthority over TLS and verifies the certificate against it", async () => {
			expect(
				await evaluate({
					...base,
					host: "127.0.0.1",
					port: secure.port,
					tls: true,
					certPath: tlsFiles.caCertPath,
					defaultAuthority: "flagd.internal",
				}),
			).toBe(true);
			expect(new URL(secure.requests.at(-1)?.url ?? "https://x").host).toBe(
				"flagd.internal",
			);
		});
	},
);

describe("TLS failures", () => {
	it("fails initialization (not silently insecure) when the server is not trusted", async () => {
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "localhost",
			port: secure.port,
			tls: true,
			deadlineMs: 400,
		});
		providers.push(provider);
		await expect(
			OpenFeature.setProviderAndWait(`tls-fail-${domainCounter++}`, provider),
		).rejects.toThrow(/deadlineMs/);
	});

	it("throws at construction, naming certPath, when the CA file cannot be read", () => {
		expect(
			() =>
				new FlagdProvider({
					env: {},
					logger: quietLogger,
					tls: true,
					certPath: "/nonexistent/ca.pem",
				}),
		).toThrow(/certPath/);
	});

	it("throws at construction for an unusable targetUri", () => {
		expect(
			() =>
				new FlagdProvider({
					env: {},
					logger: quietLogger,
					targetUri: "xds:///svc",
				}),
		).toThrow(/targetUri/);
	});

	it("reports an evaluation against a plain server over TLS as GENERAL, never FLAG_NOT_FOUND", async () => {
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port: plain.port,
			tls: true,
			deadlineMs: 300,
		});
		providers.push(provider);
		await provider.initialize().catch(() => undefined);
		const r = await provider
			.resolveBooleanEvaluation("bool-flag", false, {})
			.catch((e: { code?: string }) => e.code);
		expect(r).toBe(ErrorCode.GENERAL);
	});
});

describe("keepalive", () => {
	it("sends HTTP/2 pings every keepAliveTime ms", async () => {
		const pings: number[] = [];
		const onSession = (
			session: import("node:http2").ServerHttp2Session,
		): void => {
			session.on("ping", () => pings.push(Date.now()));
		};
		plain.onSession(onSession);
		await evaluate({ host: "127.0.0.1", port: plain.port, keepAliveTime: 100 });
		await new Promise((resolve) => setTimeout(resolve, 600));
		expect(pings.length).toBeGreaterThanOrEqual(2);
	});
});

describe("configuration problems", () => {
	it("logs a warning naming each invalid FLAGD_* variable, uses the default instead and still connects", async () => {
		const logger = recordingLogger();
		const provider = new FlagdProvider({
			host: "127.0.0.1",
			port: plain.port,
			logger,
			env: {
				FLAGD_PORT: "abc",
				FLAGD_DEADLINE_MS: "-1",
				FLAGD_FATAL_STATUS_CODES: "PERMISSION_DENIED,BOGUS",
			},
		});
		providers.push(provider);
		const warnings = logger.lines
			.filter((l) => l.level === "warn")
			.map((l) => l.text);
		expect(warnings).toEqual([
			expect.stringContaining("FLAGD_PORT"),
			expect.stringContaining("FLAGD_DEADLINE_MS"),
			expect.stringContaining('"BOGUS"'),
		]);
		expect(provider.config.port).toBe(plain.port);
		expect(provider.config.deadlineMs).toBe(500);
		await provider.initialize();
		expect(provider.connectionState).toBe("ready");
	});
});

describe("resolver", () => {
	it("FLAGD_RESOLVER=in-process selects the in-process resolver on the sync port", () => {
		const provider = new FlagdProvider({
			env: { FLAGD_RESOLVER: "in-process" },
			logger: quietLogger,
		});
		expect(provider.config).toMatchObject({
			resolver: "in-process",
			port: 8015,
		});
	});

	it("refuses an option the resolver cannot use, naming it", () => {
		expect(
			() =>
				new FlagdProvider({
					env: { FLAGD_RESOLVER: "in-process" },
					logger: quietLogger,
					apiVersion: "v1",
				}),
		).toThrow(/"apiVersion" is not used by the in-process resolver/);
	});
});

describe("shutdown leaves nothing running", () => {
	it.each([
		["grpc", "2"],
		["connect", "2"],
		["connect", "1.1"],
	])(
		"a process using the provider over %s (HTTP %s) exits on its own after onClose()",
		async (transport, httpVersion) => {
			const { exitCode, out, err } = await runTsChild(
				"test/support/provider-exit-child.ts",
				[String(plain.port), transport, httpVersion],
				{
					cwd: path.resolve(__dirname, "..", ".."),
					startupMs: 120_000,
					// After onClose() nothing may keep the process alive: Node exits as soon as its loop is empty.
					exitAfter: { output: "closed", ms: 5_000 },
				},
			);
			expect({ exitCode, err }).toEqual({ exitCode: 0, err: "" });
			expect(out.trim()).toBe("closed true");
		},
		130_000,
	);
});
