import { describe, expect, it } from "@jest/globals";
import { parseSources, parseSourcesResult } from "./parse-sources.js";

describe("parseSources (--sources JSON)", () => {
	it("maps every flagd field, converting seconds to milliseconds once", () => {
		const sources = parseSources(
			JSON.stringify([
				{ uri: "config/flags.json", provider: "file" },
				{
					uri: "https://flags.example.com/f.json",
					provider: "http",
					authHeader: "Bearer abc",
					headers: { "X-Team": "blue" },
					interval: 30,
					intervalSeed: "replica-1",
					timeoutS: 3,
				},
				{
					uri: "grpcs://sync:8015",
					provider: "grpc",
					tls: true,
					certPath: "/certs/ca.pem",
					providerID: "edge",
					selector: "flagSetId=a",
					maxMsgSize: 16777216,
				},
			]),
		);
		expect(sources).toEqual([
			{ uri: "config/flags.json", provider: "file" },
			{
				uri: "https://flags.example.com/f.json",
				provider: "http",
				authHeader: "Bearer abc",
				headers: { "X-Team": "blue" },
				intervalMs: 30_000,
				intervalSeed: "replica-1",
				timeoutMs: 3000,
			},
			{
				uri: "grpcs://sync:8015",
				provider: "grpc",
				tls: true,
				certPath: "/certs/ca.pem",
				providerId: "edge",
				selector: "flagSetId=a",
				maxMsgSizeBytes: 16777216,
			},
		]);
	});

	it("treats interval 0 as the default, like flagd", () => {
		expect(
			parseSources([{ uri: "http://x/f", provider: "http", interval: 0 }])[0],
		).not.toHaveProperty("intervalMs");
	});

	it("reports every problem with its index and field, all together", () => {
		const { sources, problems, warnings } = parseSourcesResult([
			{ uri: "a.json", provider: "file" },
			{ provider: "ftp", interval: -1 },
			{
				uri: "http://x/f",
				provider: "http",
				bearerToken: "t",
				headers: { a: 1 },
				timeoutS: 1.5,
			},
			"not-an-object",
			{ uri: "g:1", provider: "grpc", tls: "yes", maxMsgSize: 0, intervall: 5 },
		]);
		expect(sources).toEqual([{ uri: "a.json", provider: "file" }]);
		expect(problems).toEqual([
			"sources[1].uri: is required and must be a non-empty string",
			expect.stringMatching(
				/^sources\[1\]\.provider: is required and must be one of file, fsnotify, .* \(got "ftp"\)$/,
			),
			"sources[1].interval: must be an integer from 0 to 86400",
			'sources[2].bearerToken: was removed in flagd (flagd#1816); use "authHeader": "Bearer <token>" instead',
			"sources[2].timeoutS: must be an integer from 0 to 86400",
			"sources[2].headers.a: must be a string",
			'sources[3]: must be an object with at least "uri" and "provider"',
			"sources[4].maxMsgSize: must be an integer from 1 to 2147483647",
			"sources[4].tls: must be true or false",
		]);
		// flagd ignores fields it does not know: a warning, not a refusal.
		expect(warnings).toEqual(["sources[4].intervall: unknown field, ignored"]);
	});

	it("throws one CONFIG_INVALID error listing the problems", () => {
		expect(() => parseSources('[{"uri":"x"}]')).toThrow(
			/invalid --sources:\n {2}sources\[0\]\.provider/,
		);
		expect(() => parseSources("{not json")).toThrow(/not valid JSON/);
		expect(() => parseSources('{"uri":"x"}')).toThrow(/must be a JSON array/);
	});

	it("keeps __proto__ keys as plain data (no prototype pollution)", () => {
		const [source] = parseSources(
			'[{"uri":"http://x/f","provider":"http","headers":{"__proto__":"v","a":"b"}}]',
		);
		expect(Object.keys(source?.headers ?? {})).toEqual(["__proto__", "a"]);
		expect(({} as Record<string, unknown>).a).toBeUndefined();
		const polluting = parseSourcesResult(
			'[{"__proto__":{"polluted":true},"uri":"a.json","provider":"file"}]',
		);
		expect(polluting.problems).toEqual([]);
		expect(polluting.warnings).toEqual([
			"sources[0].__proto__: unknown field, ignored",
		]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("rejects oauth and incrementalUpdates, which this daemon does not implement", () => {
		const { problems } = parseSourcesResult([
			{ uri: "http://x/f", provider: "http", oauth: { clientID: "a" } },
			{ uri: "h:1", provider: "grpc", incrementalUpdates: true },
		]);
		expect(problems).toEqual([
			"sources[0].oauth: is not supported by this daemon; use authHeader",
			"sources[1].incrementalUpdates: is not supported by this daemon (each gRPC message is a full snapshot)",
		]);
	});

	it("reads a gRPC source's client certificate and key, and wants both", () => {
		const { sources, problems } = parseSourcesResult([
			{
				uri: "grpcs://up:8015",
				provider: "grpc",
				clientCertPath: "/certs/edge.crt",
				clientKeyPath: "/certs/edge.key",
			},
			{ uri: "grpcs://up2:8015", provider: "grpc", clientCertPath: "/c.crt" },
		]);
		expect(sources).toEqual([
			{
				uri: "grpcs://up:8015",
				provider: "grpc",
				clientCertPath: "/certs/edge.crt",
				clientKeyPath: "/certs/edge.key",
			},
		]);
		expect(problems).toEqual([
			"sources[1].clientKeyPath: clientCertPath and clientKeyPath go together (a client certificate needs its key)",
		]);
	});
});
