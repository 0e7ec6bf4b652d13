import { describe, expect, it } from "@jest/globals";
import { REDACTED, redactUri, redactUrisInText } from "./redact-uri.js";

describe("redactUri", () => {
	it("leaves URIs without userinfo or query as they are", () => {
		for (const uri of [
			"flags.json",
			"file:flags.json",
			"/etc/flagd/flags.json",
			"grpc://127.0.0.1:8015",
			"core.openfeature.dev/default/flags",
			"https://flags.example/a/b.json#frag",
		])
			expect(redactUri(uri)).toBe(uri);
	});

	it("replaces userinfo and every query value, keeping parameter names", () => {
		expect(
			redactUri("https://user:s3cret@flags.example:8443/f.json?token=abc&v=2"),
		).toBe(
			`https://${REDACTED}@flags.example:8443/f.json?token=${REDACTED}&v=${REDACTED}`,
		);
		expect(redactUri("http://127.0.0.1:1/f?abc123")).toBe(
			`http://127.0.0.1:1/f?${REDACTED}`,
		);
		expect(redactUri("http://h/f?a=1&&b=#x")).toBe(
			`http://h/f?a=${REDACTED}&&b=${REDACTED}#x`,
		);
		expect(redactUri("grpc://tok@h:1")).toBe(`grpc://${REDACTED}@h:1`);
	});

	it("does not take an @ in the path or query for userinfo", () => {
		expect(redactUri("https://h/users/a@b.json")).toBe(
			"https://h/users/a@b.json",
		);
		expect(redactUri("https://h/f?mail=a@b")).toBe(
			`https://h/f?mail=${REDACTED}`,
		);
	});
});

describe("redactUrisInText", () => {
	it("redacts every URI in a message and keeps JSON lines valid", () => {
		const line = JSON.stringify({
			msg: 'http source "https://h/f.json?token=SECRET": HTTP 500',
			source: "https://u:p@h/f.json?token=SECRET",
			other: "no uri here ? @",
		});
		const out = redactUrisInText(line);
		expect(out).not.toContain("SECRET");
		expect(out).not.toContain("u:p");
		expect(JSON.parse(out)).toEqual({
			msg: `http source "https://h/f.json?token=${REDACTED}": HTTP 500`,
			source: `https://${REDACTED}@h/f.json?token=${REDACTED}`,
			other: "no uri here ? @",
		});
	});
});
