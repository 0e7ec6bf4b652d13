import { describe, expect, it } from "@jest/globals";
import { resolveFlagdWebProviderOptions } from "./flagd-web-provider-options.js";

describe("resolveFlagdWebProviderOptions", () => {
	it("uses the Node provider's defaults for the shared options", () => {
		const config = resolveFlagdWebProviderOptions();
		expect(config).toMatchObject({
			baseUrl: "http://localhost:8013",
			deadlineMs: 500,
			retryBackoffMs: 1000,
			retryBackoffMaxMs: 12000,
			retryGracePeriodMs: 5000,
			selector: undefined,
			streamIdleTimeoutMs: 60000,
			streamDeadlineMs: 600000,
		});
	});

	it("builds the base URL from tls, host, port and a normalised pathPrefix", () => {
		expect(
			resolveFlagdWebProviderOptions({
				tls: true,
				host: "flags.example.com",
				port: 443,
				pathPrefix: "flagd/",
			}).baseUrl,
		).toBe("https://flags.example.com:443/flagd");
		expect(
			resolveFlagdWebProviderOptions({ host: "::1", pathPrefix: "/" }).baseUrl,
		).toBe("http://[::1]:8013");
	});

	it("keeps 0 and explicit values, and undefined means default", () => {
		const config = resolveFlagdWebProviderOptions({
			retryGracePeriod: 0,
			deadlineMs: undefined,
			selector: "flagSetId=a",
		});
		expect(config.retryGracePeriodMs).toBe(0);
		expect(config.deadlineMs).toBe(500);
		expect(config.selector).toBe("flagSetId=a");
	});

	it("names the option in errors for bad values", () => {
		expect(() => resolveFlagdWebProviderOptions({ port: 70000 })).toThrow(
			/"port"/,
		);
		expect(() =>
			resolveFlagdWebProviderOptions({ deadlineMs: "5" as unknown as number }),
		).toThrow(TypeError);
		expect(() => resolveFlagdWebProviderOptions({ host: "a/b" })).toThrow(
			/"host"/,
		);
		expect(() => resolveFlagdWebProviderOptions({ pathPrefix: "x?y" })).toThrow(
			/"pathPrefix"/,
		);
		expect(() =>
			resolveFlagdWebProviderOptions({
				fetch: "no" as unknown as typeof fetch,
			}),
		).toThrow(/"fetch"/);
		expect(() =>
			resolveFlagdWebProviderOptions({
				retryBackoffMs: 5000,
				retryBackoffMaxMs: 100,
			}),
		).toThrow(RangeError);
		expect(() =>
			resolveFlagdWebProviderOptions({ streamIdleTimeoutMs: -1 }),
		).toThrow(/"streamIdleTimeoutMs"/);
	});
});
