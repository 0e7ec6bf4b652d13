import { describe, expect, it } from "@jest/globals";
import { readEnvOptions } from "./env.js";
import { resolveFlagdProviderOptions } from "./provider-options.js";

describe("resolveFlagdProviderOptions", () => {
	it("fills every default", () => {
		const { config, warnings } = resolveFlagdProviderOptions({}, {});
		expect(config).toEqual({
			host: "localhost",
			port: 8013,
			tls: false,
			deadlineMs: 500,
			streamDeadlineMs: 600_000,
			retryBackoffMs: 1000,
			retryBackoffMaxMs: 12_000,
			retryGracePeriod: 5,
			cache: "lru",
			maxCacheSize: 1000,
			selector: undefined,
			providerId: undefined,
			fatalStatusCodes: [],
			apiVersion: "v2",
			resolver: "rpc",
			socketPath: undefined,
			certPath: undefined,
			keepAliveTime: 0,
			targetUri: undefined,
			defaultAuthority: undefined,
			transport: "grpc",
			httpVersion: "2",
			tracePropagation: true,
			offlineFlagSourcePath: undefined,
			offlinePollIntervalMs: 5000,
			contextEnricher: undefined,
			evaluatorMode: "auto",
		});
		expect(warnings).toEqual([]);
		expect(Object.isFrozen(config)).toBe(true);
	});

	it("prefers explicit options over env over defaults, field by field", () => {
		const { config } = resolveFlagdProviderOptions(
			{ port: 1111 },
			{ FLAGD_PORT: "2222", FLAGD_HOST: "envhost", FLAGD_TLS: "TRUE" },
		);
		expect(config.port).toBe(1111);
		expect(config.host).toBe("envhost");
		expect(config.tls).toBe(true);
	});

	it("lets an explicit undefined fall through to env and defaults", () => {
		const { config } = resolveFlagdProviderOptions(
			{ port: undefined, host: undefined },
			{ FLAGD_PORT: "2222" },
		);
		expect(config.port).toBe(2222);
		expect(config.host).toBe("localhost");
	});

	it("accepts 0 where 0 is meaningful, from options and from env", () => {
		expect(
			resolveFlagdProviderOptions({ streamDeadlineMs: 0 }, {}).config
				.streamDeadlineMs,
		).toBe(0);
		expect(
			resolveFlagdProviderOptions({}, { FLAGD_STREAM_DEADLINE_MS: "0" }).config
				.streamDeadlineMs,
		).toBe(0);
		expect(
			resolveFlagdProviderOptions({}, { FLAGD_RETRY_GRACE_PERIOD: "0" }).config
				.retryGracePeriod,
		).toBe(0);
	});

	it("warns about an invalid env value, naming the variable, and keeps the default", () => {
		const { config, warnings } = resolveFlagdProviderOptions(
			{},
			{ FLAGD_PORT: "abc", FLAGD_TLS: "yes" },
		);
		expect(config.port).toBe(8013);
		expect(config.tls).toBe(false);
		expect(warnings).toEqual([
			expect.stringMatching(/^FLAGD_PORT: expected an integer, got "abc"/),
			expect.stringMatching(/^FLAGD_TLS: expected "true" or "false"/),
		]);
	});

	it.each([
		["FLAGD_PORT", "99999", /<= 65535/],
		["FLAGD_DEADLINE_MS", "0", />= 1/],
		["FLAGD_DEADLINE_MS", "1.5", /integer/],
		["FLAGD_CACHE", "redis", /one of "lru", "disabled"/],
		["FLAGD_MAX_CACHE_SIZE", "-1", />= 1/],
		["FLAGD_KEEP_ALIVE_TIME_MS", "", /integer/],
	])("warns for %s=%j", (name, value, problem) => {
		const { warnings } = resolveFlagdProviderOptions({}, { [name]: value });
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toContain(name);
		expect(warnings[0]).toMatch(problem);
	});

	it("throws a TypeError or RangeError naming a bad explicit option", () => {
		expect(() =>
			resolveFlagdProviderOptions({ port: "8013" as unknown as number }),
		).toThrow(TypeError);
		expect(() => resolveFlagdProviderOptions({ port: 0 })).toThrow(
			/option "port": must be >= 1/,
		);
		expect(() => resolveFlagdProviderOptions({ port: 1.5 })).toThrow(
			/option "port"/,
		);
		expect(() =>
			resolveFlagdProviderOptions({ cache: "lfu" as "lru" }),
		).toThrow(RangeError);
		expect(() =>
			resolveFlagdProviderOptions({ tls: "true" as unknown as boolean }),
		).toThrow(/option "tls"/);
		expect(() =>
			resolveFlagdProviderOptions({ transport: "http" as "grpc" }),
		).toThrow(/option "transport"/);
		expect(() =>
			resolveFlagdProviderOptions({
				fatalStatusCodes: "A" as unknown as string[],
			}),
		).toThrow(TypeError);
	});

	it("parses fatalStatusCodes from env and warns about unknown names", () => {
		const { config, warnings } = resolveFlagdProviderOptions(
			{},
			{ FLAGD_FATAL_STATUS_CODES: " PERMISSION_DENIED, NOPE ," },
		);
		expect(config.fatalStatusCodes).toEqual(["PERMISSION_DENIED", "NOPE"]);
		expect(warnings).toEqual([expect.stringContaining('"NOPE"')]);
	});

	it("does not read FLAGD_SYNC_PORT (in-process only)", () => {
		expect(
			resolveFlagdProviderOptions({}, { FLAGD_SYNC_PORT: "9999" }).config.port,
		).toBe(8013);
	});

	it("normalises enum case from env", () => {
		const { config } = resolveFlagdProviderOptions(
			{},
			{ FLAGD_RESOLVER: "RPC", FLAGD_CACHE: "Disabled" },
		);
		expect(config.resolver).toBe("rpc");
		expect(config.cache).toBe("disabled");
	});
});

describe("readEnvOptions", () => {
	it("reads only variables that are set", () => {
		expect(readEnvOptions({ FLAGD_HOST: "h", OTHER: "x" })).toEqual({
			options: { host: "h" },
			warnings: [],
		});
	});
});
