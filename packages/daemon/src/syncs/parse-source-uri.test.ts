import { describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
import { parseSourceUri, parseSourceUris } from "./parse-source-uri.js";

describe("parseSourceUri (flagd's --uri forms)", () => {
	it.each([
		[
			"file:etc/flagd/flags.json",
			{ uri: "etc/flagd/flags.json", provider: "file" },
		],
		["file:/abs/flags.yaml", { uri: "/abs/flags.yaml", provider: "file" }],
		[
			"https://example.com/flags.json?x=1",
			{ uri: "https://example.com/flags.json?x=1", provider: "http" },
		],
		[
			"http://127.0.0.1:8080/f",
			{ uri: "http://127.0.0.1:8080/f", provider: "http" },
		],
		["grpc://sync.local:8015", { uri: "sync.local:8015", provider: "grpc" }],
		[
			"grpcs://sync.local:443",
			{ uri: "sync.local:443", provider: "grpc", tls: true },
		],
		[
			"dns:///sync.local:8015",
			{ uri: "dns:///sync.local:8015", provider: "grpc" },
		],
		[
			"uds:///var/run/flagd.sock",
			{ uri: "uds:///var/run/flagd.sock", provider: "grpc" },
		],
		[
			"core.openfeature.dev/default/my-flags",
			{ uri: "default/my-flags", provider: "kubernetes" },
		],
		[
			"gs://bucket/path/flags.json",
			{ uri: "gs://bucket/path/flags.json", provider: "gcs" },
		],
		[
			"azblob://container/flags.json",
			{ uri: "azblob://container/flags.json", provider: "azblob" },
		],
		[
			"s3://bucket/flags.json?region=eu-west-1&use_path_style=true",
			{
				uri: "s3://bucket/flags.json?region=eu-west-1&use_path_style=true",
				provider: "s3",
			},
		],
	])("%s", (input, expected) => {
		expect(parseSourceUri(input)).toEqual(expected);
	});

	it.each([
		["flags.json", /must start with 'file:'/],
		["ftp://x/y", /must start with/],
		["file:", /missing file path/],
		["core.openfeature.dev/only-name", /<namespace>\/<name>/],
		["s3://bucket-only", /s3:\/\/<bucket>\/<object>/],
		["gs://bucket/", /gs:\/\/<bucket>\/<object>/],
		["grpc://", /missing host:port/],
		["", /must start with/],
	])(
		"rejects %j with SOURCE_URI_INVALID naming the value",
		(input, message) => {
			let caught: unknown;
			try {
				parseSourceUri(input);
			} catch (error: unknown) {
				caught = error;
			}
			expect(isDaemonError(caught)).toBe(true);
			expect(caught).toMatchObject({ code: "SOURCE_URI_INVALID" });
			expect(String(caught)).toContain(`"${input}"`);
			expect(String(caught)).toMatch(message);
		},
	);

	it("parseSourceUris reports every bad value together", () => {
		expect(() => parseSourceUris(["file:a.json", "nope", "also-nope"])).toThrow(
			/"nope"[\s\S]*"also-nope"/,
		);
		expect(parseSourceUris(["file:a.json", "grpc://h:1"])).toHaveLength(2);
	});
});
