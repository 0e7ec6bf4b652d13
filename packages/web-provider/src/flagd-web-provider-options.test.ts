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

	it("maps @openfeature/flagd-web-provider's maxDelay to retryBackoffMaxMs and names it in errors", () => {
		expect(
			resolveFlagdWebProviderOptions({ maxDelay: 30_000 }).retryBackoffMaxMs,
		).toBe(30_000);
		expect(() =>
			resolveFlagdWebProviderOptions({
				maxDelay: 30_000,
				retryBackoffMaxMs: 20_000,
			}),
		).toThrow(/"maxDelay".*"retryBackoffMaxMs"/);
		expect(() => resolveFlagdWebProviderOptions({ maxDelay: 0 })).toThrow(
			/"maxDelay"/,
		);
		expect(() =>
			resolveFlagdWebProviderOptions({ maxDelay: "1s" as unknown as number }),
		).toThrow(TypeError);
		// The mapped value still has to be >= retryBackoffMs, like retryBackoffMaxMs itself.
		expect(() => resolveFlagdWebProviderOptions({ maxDelay: 500 })).toThrow(
			/"retryBackoffMaxMs"/,
		);
	});

	it("accepts maxRetries 0 (reconnect forever, as here) and refuses any other maxRetries by name", () => {
		expect(
			resolveFlagdWebProviderOptions({ maxRetries: 0 }).retryBackoffMaxMs,
		).toBe(12_000);
		for (const maxRetries of [5, -1]) {
			expect(() => resolveFlagdWebProviderOptions({ maxRetries })).toThrow(
				/"maxRetries".*not supported/,
			);
		}
	});

	it("refuses an unknown option by name instead of ignoring it", () => {
		for (const name of ["useBinaryFormat", "hostname", "cache", "timeoutMs"]) {
			expect(() =>
				resolveFlagdWebProviderOptions({ [name]: true } as never),
			).toThrow(new RegExp(`unknown option "${name}"`));
		}
	});

	it("takes connect interceptors, and refuses settings of the built-in transport next to a custom one", () => {
		const addHeader = (next: (r: unknown) => unknown) => next;
		expect(
			resolveFlagdWebProviderOptions({ interceptors: [addHeader as never] })
				.interceptors,
		).toHaveLength(1);
		expect(() =>
			resolveFlagdWebProviderOptions({ interceptors: "x" as never }),
		).toThrow(/"interceptors"/);
		const transport = {
			resolveAll: async () => ({}),
			eventStream: () => ({
				async *[Symbol.asyncIterator]() {
					// never yields: configuration test only
				},
			}),
		};
		expect(() =>
			resolveFlagdWebProviderOptions({ transport, host: "flags.example.com" }),
		).toThrow(/"transport".*"host"/);
		expect(() =>
			resolveFlagdWebProviderOptions({ transport, interceptors: [] }),
		).toThrow(/"interceptors"/);
		expect(resolveFlagdWebProviderOptions({ transport }).transport).toBe(
			transport,
		);
	});
});
