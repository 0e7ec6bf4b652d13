import { describe, expect, it } from "@jest/globals";
import { checkResolverOptions } from "./check-resolver-options.js";
import { resolveFlagdProviderOptions } from "./provider-options.js";

describe("resolver selection (testbed config.feature)", () => {
	const resolve = (
		options: Parameters<typeof resolveFlagdProviderOptions>[0],
		env: Record<string, string> = {},
	) => resolveFlagdProviderOptions(options, env).config;

	it("defaults to rpc on 8013 and in-process on 8015", () => {
		expect(resolve({})).toMatchObject({ resolver: "rpc", port: 8013 });
		expect(resolve({ resolver: "in-process" })).toMatchObject({
			resolver: "in-process",
			port: 8015,
		});
		expect(resolve({}, { FLAGD_RESOLVER: "IN-PROCESS" })).toMatchObject({
			resolver: "in-process",
			port: 8015,
		});
	});

	it("reads FLAGD_SYNC_PORT before FLAGD_PORT for in-process only", () => {
		const env = { FLAGD_SYNC_PORT: "9999", FLAGD_PORT: "8888" };
		expect(resolve({ resolver: "in-process" }, env).port).toBe(9999);
		expect(
			resolve({ resolver: "in-process" }, { FLAGD_PORT: "1234" }).port,
		).toBe(1234);
		expect(resolve({}, env).port).toBe(8888);
		expect(resolve({ resolver: "in-process", port: 1 }, env).port).toBe(1);
	});

	it("turns in-process with an offline file into file, and refuses file without one", () => {
		expect(
			resolve({ resolver: "in-process", offlineFlagSourcePath: "p" }).resolver,
		).toBe("file");
		expect(
			resolve({ resolver: "rpc", offlineFlagSourcePath: "p" }).resolver,
		).toBe("rpc");
		expect(
			resolve({ offlineFlagSourcePath: "p" }, { FLAGD_RESOLVER: "FILE" })
				.resolver,
		).toBe("file");
		expect(() => resolve({ resolver: "file" })).toThrow(
			/"file" needs "offlineFlagSourcePath"/,
		);
	});

	it("accepts resolverType as the @openfeature/flagd-provider name and refuses a disagreement", () => {
		expect(resolve({ resolverType: "in-process" }).resolver).toBe("in-process");
		expect(() =>
			resolve({ resolverType: "in-process", resolver: "rpc" }),
		).toThrow(/"resolver".*"resolverType".*disagree/);
		expect(() => resolve({ resolverType: "grpc" as never })).toThrow(
			/resolverType/,
		);
	});

	it("reads the offline options and validates contextEnricher", () => {
		expect(
			resolve(
				{},
				{ FLAGD_OFFLINE_FLAG_SOURCE_PATH: "f", FLAGD_OFFLINE_POLL_MS: "1000" },
			),
		).toMatchObject({
			offlineFlagSourcePath: "f",
			offlinePollIntervalMs: 1000,
		});
		expect(() => resolve({ contextEnricher: 3 as never })).toThrow(
			/"contextEnricher": expected a function/,
		);
	});
});

describe("checkResolverOptions", () => {
	it("refuses an explicit option the resolver cannot use, naming it and its users", () => {
		expect(() =>
			checkResolverOptions("rpc", { offlineFlagSourcePath: "x" }, {}),
		).toThrow(
			'flagd provider option "offlineFlagSourcePath" is not used by the rpc resolver (used by: file)',
		);
		expect(() =>
			checkResolverOptions("in-process", { cache: "lru" }, {}),
		).toThrow(
			/"cache" is not used by the in-process resolver \(used by: rpc\)/,
		);
		expect(() => checkResolverOptions("file", { host: "h" }, {})).toThrow(
			/"host" is not used by the file resolver \(used by: rpc, in-process\)/,
		);
		expect(() =>
			checkResolverOptions("rpc", { contextEnricher: () => ({}) }, {}),
		).toThrow(/"contextEnricher".*used by: in-process/);
	});

	it("accepts what each resolver uses, and options given as undefined", () => {
		expect(
			checkResolverOptions(
				"rpc",
				{ host: "h", cache: "lru", offlineFlagSourcePath: undefined },
				{},
			),
		).toEqual([]);
		expect(
			checkResolverOptions(
				"in-process",
				{ host: "h", selector: "s", contextEnricher: () => ({}) },
				{},
			),
		).toEqual([]);
		expect(
			checkResolverOptions(
				"file",
				{ offlineFlagSourcePath: "f", deadlineMs: 5 },
				{},
			),
		).toEqual([]);
		// Local resolvers have no cache: "disabled" is true of them (the testbed passes it to every mode).
		expect(
			checkResolverOptions("in-process", { cache: "disabled" }, {}),
		).toEqual([]);
		expect(() =>
			checkResolverOptions("in-process", { cache: "lru" }, {}),
		).toThrow(/"cache"/);
	});

	it("warns about FLAGD_* variables of other resolvers, naming them", () => {
		expect(
			checkResolverOptions(
				"file",
				{},
				{ FLAGD_HOST: "h", FLAGD_OFFLINE_POLL_MS: "5" },
			),
		).toEqual([
			expect.stringMatching(/^FLAGD_HOST is not used by the file resolver/),
		]);
		expect(checkResolverOptions("rpc", {}, { FLAGD_SYNC_PORT: "1" })).toEqual([
			expect.stringMatching(
				/^FLAGD_SYNC_PORT is read by the in-process resolver only/,
			),
		]);
		expect(
			checkResolverOptions(
				"in-process",
				{},
				{ FLAGD_SYNC_PORT: "1", FLAGD_CACHE: "lru" },
			),
		).toEqual([
			expect.stringMatching(
				/^FLAGD_CACHE is not used by the in-process resolver/,
			),
		]);
	});
});
