// Every kind of invalid input, each reported with what the user wrote, and all of them together.
import { describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
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

/** The problems listed in a CONFIG_INVALID error, one per line. */
function problemsOf(run: () => unknown): string[] {
	try {
		run();
	} catch (e: unknown) {
		if (!isDaemonError(e) || e.code !== "CONFIG_INVALID") throw e;
		const [, ...lines] = e.message.split("\n");
		return lines.map((l) => l.replace(/^ {2}- /, ""));
	}
	throw new Error("expected a CONFIG_INVALID error");
}

describe("resolveDaemonConfig problems", () => {
	it("names the env var and the option for a bad value", () => {
		expect(problemsOf(() => resolve([], { FLAGD_PORT: "abc" }))).toEqual([
			"FLAGD_PORT=abc: --port must be an integer 0-65535",
		]);
	});

	it.each([
		[["-p", "70000"], "-p 70000: --port must be an integer 0-65535"],
		[["-m", "-1"], "-m -1: --management-port must be an integer 0-65535"],
		[
			["--sync-port=1.5"],
			"--sync-port=1.5: --sync-port must be an integer 0-65535",
		],
		[
			["-B", "lots"],
			"-B lots: --max-request-body must be a whole number of bytes (0 or more)",
		],
		[["--debug=maybe"], "--debug=maybe: --debug must be true or false"],
		[["-z", "xml"], "-z xml: --log-format must be one of console, json"],
		[
			["-t", "statsd"],
			"-t statsd: --metrics-exporter must be one of prometheus, otel",
		],
		[
			["--on-source-failure=retry"],
			"--on-source-failure=retry: --on-source-failure must be one of exit, continue",
		],
		[
			["--stream-deadline", "5 minutes"],
			"--stream-deadline 5 minutes: --stream-deadline must be a duration like 500ms, 30s, 1m30s or 2h (or plain milliseconds), at most 24d",
		],
		[
			["-X", "novalue"],
			'-X novalue: --context-value must be key=value, got "novalue"',
		],
		[["-X", "=x"], '-X =x: --context-value must be key=value, got "=x"'],
		[
			["-H", "Bad Header=key"],
			'-H Bad Header=key: --context-from-header "Bad Header" is not a valid header name',
		],
		[
			["-H", "X-A="],
			"-H X-A=: --context-from-header needs a non-empty key and value",
		],
		[
			["-c", "/c.pem"],
			"-c /c.pem: --server-cert-path needs --server-key-path as well (TLS uses both)",
		],
		[
			["-k", "/k.pem"],
			"-k /k.pem: --server-key-path needs --server-cert-path as well (TLS uses both)",
		],
		[
			["-t", "otel"],
			"-t otel: --metrics-exporter otel needs --otel-collector-uri",
		],
		[
			["-p", "9000", "-r", "9000"],
			"--ofrep-port and --port both use port 9000; each service needs its own port",
		],
		[
			["-d", "/a.sock", "-e", "/a.sock"],
			"--socket-path and --sync-socket-path must be different files",
		],
		[
			["--sources", "{not json"],
			/^--sources \{not json: --sources: not valid JSON: /,
		],
		[
			["--bind-address", "not an address"],
			"--bind-address not an address: --bind-address must be an IP address or a host name",
		],
		[["--bogus"], "unknown flag --bogus"],
		[["start"], 'unexpected argument "start" (flagd start takes only flags)'],
	])("reports %j", (argv, expected) => {
		const problems = problemsOf(() => resolve(argv as string[]));
		expect(problems).toHaveLength(1);
		if (typeof expected === "string") expect(problems[0]).toBe(expected);
		else expect(problems[0]).toMatch(expected);
	});

	it("does not count a port clash when a unix socket replaces that port", () => {
		expect(resolve(["-d", "/tmp/e.sock", "-p", "8014"]).config.socketPath).toBe(
			"/tmp/e.sock",
		);
	});

	it("names the config file and key for a bad value in the file", () => {
		expect(
			problemsOf(() =>
				resolve(["--config", "c.yaml"], {}, { "c.yaml": "port: high\n" }),
			),
		).toEqual(["c.yaml: port: high: --port must be an integer 0-65535"]);
		expect(
			problemsOf(() =>
				resolve(
					["--config", "c.json"],
					{},
					{ "c.json": '{"context-value": {"a": {"b": 1}}}' },
				),
			),
		).toEqual([
			'c.json: context-value: {"a":{"b":1}}: --context-value value of "a" must be a string, number or boolean',
		]);
	});

	it("reports a bad --uri and a bad --sources entry with the option that caused them", () => {
		const problems = problemsOf(() =>
			resolve([
				"--uri",
				"ftp://nowhere/flags.json",
				"--sources",
				'[{"uri":"x"}]',
			]),
		);
		expect(problems).toHaveLength(2);
		expect(problems[0]).toMatch(
			/^--uri ftp:\/\/nowhere\/flags\.json: invalid sync uri: must start with .+/,
		);
		expect(problems[1]).toBe(
			'--sources [{"uri":"x"}]: --sources[0].provider: is required and must be one of file, fsnotify, fileinfo, http, grpc, kubernetes, gcs, azblob, s3 (got undefined)',
		);
	});

	it("reports a source configured twice", () => {
		expect(
			problemsOf(() =>
				resolve([
					"-f",
					"http://localhost:1/a.json",
					"-f",
					"http://localhost:1/a.json",
				]),
			),
		).toEqual([
			'source "http://localhost:1/a.json" is configured twice (--uri/--sources); each source needs a distinct URI',
		]);
	});

	it("reports every problem from every layer at once", () => {
		const problems = problemsOf(() =>
			resolve(
				["--config", "c.yaml", "-p", "x", "--nope", "-z", "xml"],
				{ FLAGD_MANAGEMENT_PORT: "y", FLAGD_DEBUG: "sometimes" },
				{ "c.yaml": "sync-port: z\nprot: 1\n" },
			),
		);
		expect(problems).toEqual([
			"unknown flag --nope",
			'c.yaml: unknown key "prot" (did you mean "port"?)',
			"-p x: --port must be an integer 0-65535",
			"FLAGD_MANAGEMENT_PORT=y: --management-port must be an integer 0-65535",
			"c.yaml: sync-port: z: --sync-port must be an integer 0-65535",
			"-z xml: --log-format must be one of console, json",
			"FLAGD_DEBUG=sometimes: --debug must be true or false",
		]);
	});

	it("reports an unreadable config file", () => {
		expect(problemsOf(() => resolve(["--config", "/nope.yaml"]))).toEqual([
			"--config /nope.yaml: cannot read the file: ENOENT: no such file or directory, open '/nope.yaml'",
		]);
	});

	it("puts the count and one problem per line in the error message", () => {
		try {
			resolve(["-p", "x", "-m", "y"]);
			throw new Error("expected a CONFIG_INVALID error");
		} catch (e: unknown) {
			expect(isDaemonError(e) && e.code).toBe("CONFIG_INVALID");
			expect((e as Error).message).toBe(
				[
					"invalid configuration (2 problems):",
					"  - -p x: --port must be an integer 0-65535",
					"  - -m y: --management-port must be an integer 0-65535",
				].join("\n"),
			);
		}
	});
});
