// The listener options (timeouts, stream limits, client certificates): defaults, parsing and the problems they report.
import { describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
import { resolveDaemonConfig } from "./resolve-daemon-config.js";

function resolve(argv: string[], env: Record<string, string> = {}) {
	return resolveDaemonConfig({ argv, env }).config;
}

function problemsOf(
	argv: string[],
	env: Record<string, string> = {},
): string[] {
	try {
		resolveDaemonConfig({ argv, env });
	} catch (e: unknown) {
		if (!isDaemonError(e) || e.code !== "CONFIG_INVALID") throw e;
		return e.message
			.split("\n")
			.slice(1)
			.map((l) => l.replace(/^ {2}- /, ""));
	}
	throw new Error("expected a CONFIG_INVALID error");
}

describe("listener options", () => {
	it("default to production limits", () => {
		expect(resolve([])).toMatchObject({
			headerTimeoutMs: 5_000,
			idleTimeoutMs: 60_000,
			requestTimeoutMs: 60_000,
			maxConcurrentStreams: 250,
			maxEventStreams: 1_000,
			maxSyncStreams: 1_000,
			syncClientCaPath: undefined,
		});
	});

	it("read durations, counts and the client CA from flags and env vars", () => {
		expect(
			resolve(
				[
					"--header-timeout",
					"2s",
					"--idle-timeout=0",
					"--request-timeout",
					"30s",
					"--max-concurrent-streams",
					"100",
					"-c",
					"server.crt",
					"-k",
					"server.key",
					"--sync-client-ca-path",
					"ca.crt",
				],
				{ FLAGD_MAX_EVENT_STREAMS: "50", FLAGD_MAX_SYNC_STREAMS: "7" },
			),
		).toMatchObject({
			headerTimeoutMs: 2_000,
			idleTimeoutMs: 0,
			requestTimeoutMs: 30_000,
			maxConcurrentStreams: 100,
			maxEventStreams: 50,
			maxSyncStreams: 7,
			tls: { certPath: "server.crt", keyPath: "server.key" },
			syncClientCaPath: "ca.crt",
		});
	});

	it("refuse a stream limit of 0 and client certificates without TLS, naming what the user wrote", () => {
		expect(
			problemsOf(
				["--max-event-streams", "0", "--sync-client-ca-path", "ca.crt"],
				{
					FLAGD_MAX_CONCURRENT_STREAMS: "lots",
				},
			),
		).toEqual([
			"FLAGD_MAX_CONCURRENT_STREAMS=lots: --max-concurrent-streams must be a whole number from 1 to 4294967295",
			"--max-event-streams 0: --max-event-streams must be a whole number from 1 to 4294967295",
			"--sync-client-ca-path ca.crt: --sync-client-ca-path needs --server-cert-path and --server-key-path (client certificates need TLS)",
		]);
	});
});
