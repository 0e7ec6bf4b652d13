// The --ofrep-sse-* options: defaults, flags, env vars and config keys, and bad values named by their option.
import { describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
import { resolveDaemonConfig } from "./resolve-daemon-config.js";

function resolve(argv: string[], env: Record<string, string> = {}) {
	return resolveDaemonConfig({
		argv: ["--uri", "file:flags.json", ...argv],
		env,
		readFile: (path) => {
			throw new Error(`ENOENT: no such file or directory, open '${path}'`);
		},
	}).config;
}

function problemsOf(argv: string[]): string {
	try {
		resolve(argv);
	} catch (e: unknown) {
		if (isDaemonError(e)) return e.message;
		throw e;
	}
	throw new Error("expected CONFIG_INVALID");
}

describe("--ofrep-sse-* options", () => {
	it("default to enabled, 120 s, the request's origin and 10,000 streams", () => {
		expect(resolve([])).toMatchObject({
			ofrepSseEnabled: true,
			ofrepSseInactivityDelaySec: 120,
			ofrepSsePublicUrl: undefined,
			ofrepSseMaxConnections: 10_000,
		});
	});

	it("read flags and FLAGD_* env vars; the public URL is normalised to its origin", () => {
		expect(
			resolve([
				"--ofrep-sse-enabled=false",
				"--ofrep-sse-inactivity-delay",
				"60",
				"--ofrep-sse-public-url",
				"https://Flags.Example.com/",
			]),
		).toMatchObject({
			ofrepSseEnabled: false,
			ofrepSseInactivityDelaySec: 60,
			ofrepSsePublicUrl: "https://flags.example.com",
		});
		expect(
			resolve([], { FLAGD_OFREP_SSE_MAX_CONNECTIONS: "0" })
				.ofrepSseMaxConnections,
		).toBe(0);
	});

	it("name the option for bad values", () => {
		const message = problemsOf([
			"--ofrep-sse-inactivity-delay=2m",
			"--ofrep-sse-max-connections=-1",
			"--ofrep-sse-public-url=https://flags.example.com/path",
		]);
		expect(message).toContain(
			"--ofrep-sse-inactivity-delay must be a whole number (0 or more)",
		);
		expect(message).toContain(
			"--ofrep-sse-max-connections must be a whole number (0 or more)",
		);
		expect(message).toContain(
			"--ofrep-sse-public-url must be an http(s) origin like https://flags.example.com",
		);
	});
});
