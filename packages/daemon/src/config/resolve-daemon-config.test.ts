import { describe, expect, it } from "@jest/globals";
import { DAEMON_FLAGS, envVarName } from "./daemon-flags.js";
import { DEFAULTS } from "./defaults.js";
import { resolveDaemonConfig } from "./resolve-daemon-config.js";

const noFiles = (path: string): string => {
	throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};

function resolve(
	argv: string[],
	env: Record<string, string> = {},
	files: Record<string, string> = {},
) {
	return resolveDaemonConfig({
		argv,
		env,
		readFile: (path) => files[path] ?? noFiles(path),
	});
}

describe("resolveDaemonConfig defaults", () => {
	it("fills every field from DEFAULTS when nothing is set", () => {
		const { config, warnings } = resolve([]);
		expect(config).toEqual({
			...DEFAULTS,
			sources: [],
			corsOrigins: [],
			staticContext: {},
			headerContext: {},
		});
		expect(warnings).toEqual([
			"no sync sources configured (--uri or --sources): the daemon serves no flags",
		]);
		expect(Object.isFrozen(config)).toBe(true);
	});

	it("documents every flag's default in the flag table consistently with DEFAULTS", () => {
		const byName = new Map(DAEMON_FLAGS.map((f) => [f.name, f.defaultText]));
		expect(byName.get("port")).toBe(String(DEFAULTS.port));
		expect(byName.get("management-port")).toBe(String(DEFAULTS.managementPort));
		expect(byName.get("sync-port")).toBe(String(DEFAULTS.syncPort));
		expect(byName.get("ofrep-port")).toBe(String(DEFAULTS.ofrepPort));
		expect(byName.get("max-request-body")).toBe(
			String(DEFAULTS.maxRequestBodyBytes),
		);
		expect(byName.get("max-request-header")).toBe(
			String(DEFAULTS.maxRequestHeaderBytes),
		);
		expect(byName.get("log-format")).toBe(DEFAULTS.logFormat);
		expect(byName.get("on-source-failure")).toBe(
			DEFAULTS.onSourceStartupFailure,
		);
		expect(byName.get("bind-address")).toBe(DEFAULTS.bindAddress);
	});
});

describe("resolveDaemonConfig flags", () => {
	it("reads every option from its long flag", () => {
		const { config } = resolve([
			"--port=1001",
			"--management-port=1002",
			"--sync-port=1003",
			"--ofrep-port=1004",
			"--bind-address=127.0.0.1",
			"--socket-path=/tmp/eval.sock",
			"--sync-socket-path=/tmp/sync.sock",
			"--server-cert-path=/tls/cert.pem",
			"--server-key-path=/tls/key.pem",
			"--uri=file:flags.json",
			'--sources=[{"uri":"http://localhost:9999/flags.json","provider":"http"}]',
			"--cors-origin=https://a.example",
			"--context-value=region=eu",
			"--context-from-header=X-User-Tier=tier",
			"--stream-deadline=1m",
			"--disable-sync-metadata",
			"--max-request-body=2048",
			"--max-request-header=4096",
			"--keep-alive-min-time=10s",
			"--keep-alive-permit-without-stream=false",
			"--metrics-exporter=otel",
			"--otel-collector-uri=localhost:4317",
			"--otel-cert-path=/otel/cert.pem",
			"--otel-key-path=/otel/key.pem",
			"--otel-ca-path=/otel/ca.pem",
			"--otel-reload-interval=30m",
			"--log-format=json",
			"--debug",
			"--strict-validation",
			"--on-source-failure=continue",
		]);
		expect(config).toMatchObject({
			port: 1001,
			managementPort: 1002,
			syncPort: 1003,
			ofrepPort: 1004,
			bindAddress: "127.0.0.1",
			socketPath: "/tmp/eval.sock",
			syncSocketPath: "/tmp/sync.sock",
			tls: { certPath: "/tls/cert.pem", keyPath: "/tls/key.pem" },
			corsOrigins: ["https://a.example"],
			staticContext: { region: "eu" },
			headerContext: { "x-user-tier": "tier" },
			streamDeadlineMs: 60_000,
			disableSyncMetadata: true,
			maxRequestBodyBytes: 2048,
			maxRequestHeaderBytes: 4096,
			keepAliveMinTimeMs: 10_000,
			keepAlivePermitWithoutStream: false,
			metricsExporter: "otel",
			otelCollectorUri: "localhost:4317",
			otelCertPath: "/otel/cert.pem",
			otelKeyPath: "/otel/key.pem",
			otelCaPath: "/otel/ca.pem",
			otelReloadIntervalMs: 1_800_000,
			logFormat: "json",
			debug: true,
			strictValidation: true,
			onSourceStartupFailure: "continue",
		});
		expect(config.sources).toHaveLength(2);
		expect(config.sources[0]?.uri).toContain("flags.json");
		expect(config.sources[1]).toMatchObject({
			uri: "http://localhost:9999/flags.json",
			provider: "http",
		});
	});

	it("reads the short forms", () => {
		const { config } = resolve([
			"-p",
			"2001",
			"-m",
			"2002",
			"-g",
			"2003",
			"-r",
			"2004",
			"-c",
			"/c.pem",
			"-k",
			"/k.pem",
			"-f",
			"file:a.json",
			"-C",
			"https://a.example",
			"-X",
			"a=b",
			"-X",
			"c=d",
			"-H",
			"X-Tenant=tenant",
			"-B",
			"10",
			"-R",
			"20",
			"-t",
			"prometheus",
			"-o",
			"otel:4317",
			"-D",
			"/d.pem",
			"-K",
			"/k2.pem",
			"-A",
			"/a.pem",
			"-I",
			"2h",
			"-z",
			"json",
			"-x",
		]);
		expect(config).toMatchObject({
			port: 2001,
			managementPort: 2002,
			syncPort: 2003,
			ofrepPort: 2004,
			tls: { certPath: "/c.pem", keyPath: "/k.pem" },
			corsOrigins: ["https://a.example"],
			staticContext: { a: "b", c: "d" },
			headerContext: { "x-tenant": "tenant" },
			maxRequestBodyBytes: 10,
			maxRequestHeaderBytes: 20,
			metricsExporter: "prometheus",
			otelCollectorUri: "otel:4317",
			otelCertPath: "/d.pem",
			otelKeyPath: "/k2.pem",
			otelCaPath: "/a.pem",
			otelReloadIntervalMs: 7_200_000,
			logFormat: "json",
			debug: true,
		});
		expect(config.sources).toHaveLength(1);
		expect(
			resolve(["-d", "/e.sock", "-e", "/s.sock", "-s", "[]"]).config,
		).toMatchObject({
			socketPath: "/e.sock",
			syncSocketPath: "/s.sock",
		});
	});

	it("splits comma lists and repeated flags for --uri, --cors-origin, -X and -H", () => {
		const { config } = resolve([
			"-f",
			"file:a.json,file:b.json",
			"-f",
			"file:c.json",
			"-C",
			"https://a.example, https://b.example",
			"-C",
			"*",
			"-X",
			"a=1,b=2",
			"-X",
			"c=x=y",
			"-H",
			"X-A=a,X-B=b",
		]);
		expect(config.sources).toHaveLength(3);
		expect(config.corsOrigins).toEqual([
			"https://a.example",
			"https://b.example",
			"*",
		]);
		expect(config.staticContext).toEqual({ a: "1", b: "2", c: "x=y" });
		expect(config.headerContext).toEqual({ "x-a": "a", "x-b": "b" });
	});

	it("orders sources --uri first, then --sources, regardless of argument order", () => {
		const { config } = resolve([
			"--sources",
			'[{"uri":"http://localhost:1/s.json","provider":"http"}]',
			"--uri",
			"http://localhost:1/u.json",
		]);
		expect(config.sources.map((s) => s.uri)).toEqual([
			"http://localhost:1/u.json",
			"http://localhost:1/s.json",
		]);
	});

	it("takes the last value of a repeated single-valued flag (pflag)", () => {
		expect(resolve(["-p", "1", "-p", "2"]).config.port).toBe(2);
	});

	it("accepts a plain number of milliseconds and 0 for durations", () => {
		expect(resolve(["--stream-deadline", "1500"]).config.streamDeadlineMs).toBe(
			1500,
		);
		expect(resolve(["--keep-alive-min-time=0"]).config.keepAliveMinTimeMs).toBe(
			0,
		);
	});

	it("treats 0 as a valid port and byte limit", () => {
		const { config } = resolve([
			"-p",
			"0",
			"-m",
			"0",
			"-g",
			"0",
			"-r",
			"0",
			"-B",
			"0",
		]);
		expect(config).toMatchObject({
			port: 0,
			managementPort: 0,
			syncPort: 0,
			ofrepPort: 0,
			maxRequestBodyBytes: 0,
		});
	});
});

describe("resolveDaemonConfig env vars and config file", () => {
	it("reads every option from its FLAGD_* env var", () => {
		const { config } = resolve([], {
			FLAGD_PORT: "3001",
			FLAGD_MANAGEMENT_PORT: "3002",
			FLAGD_SYNC_PORT: "3003",
			FLAGD_OFREP_PORT: "3004",
			FLAGD_BIND_ADDRESS: "::1",
			FLAGD_URI: "http://localhost:1/a.json,http://localhost:1/b.json",
			FLAGD_SOURCES: '[{"uri":"http://localhost:1/c.json","provider":"http"}]',
			FLAGD_CORS_ORIGIN: "https://a.example,https://b.example",
			FLAGD_CONTEXT_VALUE: "a=1,b=2",
			FLAGD_CONTEXT_FROM_HEADER: "X-A=a",
			FLAGD_STREAM_DEADLINE: "5s",
			FLAGD_DISABLE_SYNC_METADATA: "true",
			FLAGD_MAX_REQUEST_BODY: "100",
			FLAGD_MAX_REQUEST_HEADER: "200",
			FLAGD_KEEP_ALIVE_MIN_TIME: "1m",
			FLAGD_KEEP_ALIVE_PERMIT_WITHOUT_STREAM: "false",
			FLAGD_LOG_FORMAT: "json",
			FLAGD_DEBUG: "1",
			FLAGD_STRICT_VALIDATION: "TRUE",
			FLAGD_ON_SOURCE_FAILURE: "continue",
			FLAGD_SERVER_CERT_PATH: "/c.pem",
			FLAGD_SERVER_KEY_PATH: "/k.pem",
		});
		expect(config).toMatchObject({
			port: 3001,
			managementPort: 3002,
			syncPort: 3003,
			ofrepPort: 3004,
			bindAddress: "::1",
			corsOrigins: ["https://a.example", "https://b.example"],
			staticContext: { a: "1", b: "2" },
			headerContext: { "x-a": "a" },
			streamDeadlineMs: 5000,
			disableSyncMetadata: true,
			maxRequestBodyBytes: 100,
			maxRequestHeaderBytes: 200,
			keepAliveMinTimeMs: 60_000,
			keepAlivePermitWithoutStream: false,
			logFormat: "json",
			debug: true,
			strictValidation: true,
			onSourceStartupFailure: "continue",
			tls: { certPath: "/c.pem", keyPath: "/k.pem" },
		});
		expect(config.sources.map((s) => s.uri)).toEqual([
			"http://localhost:1/a.json",
			"http://localhost:1/b.json",
			"http://localhost:1/c.json",
		]);
	});

	it("reads a JSON config file with long flag names as keys", () => {
		const file = JSON.stringify({
			port: 4001,
			"log-format": "json",
			uri: ["http://localhost:1/a.json"],
			"context-value": { region: "eu", tier: 3, beta: true },
			"cors-origin": ["https://a.example"],
			"stream-deadline": "2s",
			debug: true,
		});
		const { config } = resolve(
			["--config", "/etc/flagd.json"],
			{},
			{ "/etc/flagd.json": file },
		);
		expect(config).toMatchObject({
			port: 4001,
			logFormat: "json",
			staticContext: { region: "eu", tier: "3", beta: "true" },
			corsOrigins: ["https://a.example"],
			streamDeadlineMs: 2000,
			debug: true,
		});
		expect(config.sources.map((s) => s.uri)).toEqual([
			"http://localhost:1/a.json",
		]);
	});

	it("reads a YAML config file, including sources as a YAML list", () => {
		const yaml = [
			"port: 5001",
			"management-port: '5002'",
			"sources:",
			"  - uri: http://localhost:1/flags.json",
			"    provider: http",
			"    interval: 10",
			"context-from-header:",
			"  X-User-Id: userId",
			"keep-alive-permit-without-stream: false",
			"",
		].join("\n");
		const { config } = resolve(
			["--config=flagd.yaml"],
			{},
			{ "flagd.yaml": yaml },
		);
		expect(config).toMatchObject({
			port: 5001,
			managementPort: 5002,
			headerContext: { "x-user-id": "userId" },
			keepAlivePermitWithoutStream: false,
		});
		expect(config.sources).toEqual([
			expect.objectContaining({
				uri: "http://localhost:1/flags.json",
				provider: "http",
				intervalMs: 10_000,
			}),
		]);
	});

	it("takes the config file path from FLAGD_CONFIG too", () => {
		const { config } = resolve(
			[],
			{ FLAGD_CONFIG: "c.yml" },
			{ "c.yml": "port: 6001\n" },
		);
		expect(config.port).toBe(6001);
	});

	it("applies precedence flag > env var > config file > default, option by option", () => {
		const yaml =
			"port: 7001\nmanagement-port: 7002\nsync-port: 7003\nuri: http://localhost:1/file.json\n";
		const { config } = resolve(
			["--config", "c.yaml", "-p", "9001"],
			{
				FLAGD_PORT: "8001",
				FLAGD_MANAGEMENT_PORT: "8002",
				FLAGD_URI: "http://localhost:1/env.json",
			},
			{ "c.yaml": yaml },
		);
		expect(config.port).toBe(9001);
		expect(config.managementPort).toBe(8002);
		expect(config.syncPort).toBe(7003);
		expect(config.ofrepPort).toBe(DEFAULTS.ofrepPort);
		// A list from a higher layer replaces the lower one (viper), it does not append.
		expect(config.sources.map((s) => s.uri)).toEqual([
			"http://localhost:1/env.json",
		]);
	});

	it("lets a flag override a config file list", () => {
		const yaml =
			"cors-origin: [https://file.example]\ncontext-value: {a: file}\n";
		const { config } = resolve(
			["--config", "c.yaml", "-C", "https://flag.example"],
			{},
			{ "c.yaml": yaml },
		);
		expect(config.corsOrigins).toEqual(["https://flag.example"]);
		expect(config.staticContext).toEqual({ a: "file" });
	});

	it("warns about unknown FLAGD_* env vars without failing", () => {
		const { warnings } = resolve(["-f", "http://localhost:1/a.json"], {
			FLAGD_PROT: "1",
		});
		expect(warnings).toEqual([
			"FLAGD_PROT is not a flagd start setting and is ignored (see flagd start --help)",
		]);
	});

	it("covers every env var name the flag table lists", () => {
		expect(DAEMON_FLAGS.map((f) => envVarName(f.name))).toContain(
			"FLAGD_KEEP_ALIVE_MIN_TIME",
		);
	});
});

describe("resolveDaemonConfig flagd compatibility", () => {
	it('accepts flagd\'s "" default for --metrics-exporter as prometheus', () => {
		const { config } = resolve(
			["--config", "c.json"],
			{},
			{ "c.json": '{"metrics-exporter": ""}' },
		);
		expect(config.metricsExporter).toBe("prometheus");
	});
});
