// The `flagd` CLI as users run it: real child processes (`node --import tsx packages/daemon/src/cli/main.ts …`) on
// port 0 bound to 127.0.0.1, real HTTP requests, real signals. `npm start` is exercised through scripts/start.mjs.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
	jest,
} from "@jest/globals";
import {
	freePortArgs,
	loopbackDaemonArgs,
} from "../../../../test/support/daemon-argv.js";
import { createTlsFixtures } from "../../../../test/support/tls-fixtures.js";
import { DAEMON_FLAGS } from "../config/daemon-flags.js";

const repoRoot = resolve(__dirname, "../../../..");
/**
 * How long a CLI process may take to log a line: each one compiles the daemon's TypeScript with tsx first, which
 * takes a second when idle and tens of seconds on a loaded 2-core CI machine. Tests start up to three processes.
 */
const LINE_WAIT_MS = 60_000;
jest.setTimeout(4 * LINE_WAIT_MS);
const cliPath = join(repoRoot, "packages/daemon/src/cli/main.ts");

interface Spawned {
	readonly child: ChildProcess;
	readonly lines: string[];
	stderr(): string;
	readonly exited: Promise<{
		code: number | null;
		signal: NodeJS.Signals | null;
	}>;
	/** Resolves with the first stdout line matching, failing after timeoutMs or when the process exits first. */
	waitForLine(
		match: (line: string) => boolean,
		timeoutMs?: number,
	): Promise<string>;
}

const running: Spawned[] = [];

/** The environment without any FLAGD_* the test runner might carry, so only what a test sets applies. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([k]) => !k.startsWith("FLAGD_")),
	);
	return { ...env, NO_COLOR: "1", ...extra };
}

function spawnNode(args: string[], env: Record<string, string> = {}): Spawned {
	const child = spawn(process.execPath, args, {
		cwd: repoRoot,
		env: cleanEnv(env),
	});
	const lines: string[] = [];
	let stderr = "";
	const waiters = new Set<() => void>();
	createInterface({ input: child.stdout! }).on("line", (line) => {
		lines.push(line);
		for (const wake of waiters) wake();
	});
	child.stderr!.on("data", (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const exited = new Promise<{
		code: number | null;
		signal: NodeJS.Signals | null;
	}>((done) => {
		child.on("exit", (code, signal) => {
			for (const wake of waiters) wake();
			done({ code, signal });
		});
	});
	const spawned: Spawned = {
		child,
		lines,
		stderr: () => stderr,
		exited,
		waitForLine(match, timeoutMs = LINE_WAIT_MS) {
			return new Promise((resolveLine, reject) => {
				const check = () => {
					const found = lines.find(match);
					if (found !== undefined) {
						finish();
						resolveLine(found);
					} else if (child.exitCode !== null || child.signalCode !== null) {
						finish();
						reject(
							new Error(
								`process exited before the line appeared:\n${lines.join("\n")}\n${stderr}`,
							),
						);
					}
				};
				const timer = setTimeout(() => {
					finish();
					reject(
						new Error(
							`no matching line within ${timeoutMs} ms:\n${lines.join("\n")}\n${stderr}`,
						),
					);
				}, timeoutMs);
				const finish = () => {
					clearTimeout(timer);
					waiters.delete(check);
				};
				waiters.add(check);
				check();
			});
		},
	};
	running.push(spawned);
	return spawned;
}

function spawnCli(args: string[], env: Record<string, string> = {}): Spawned {
	return spawnNode(["--import", "tsx", cliPath, ...args], env);
}

async function runToExit(args: string[], env: Record<string, string> = {}) {
	const spawned = spawnCli(args, env);
	const { code } = await spawned.exited;
	return { code, stdout: spawned.lines.join("\n"), stderr: spawned.stderr() };
}

interface Addresses {
	evaluation: string;
	management: string;
	sync: string;
	ofrep: string;
}

/** Starts the daemon with JSON logs on free ports and returns the addresses from its "flagd started" record. */
async function startDaemonProcess(
	extraArgs: string[],
	env: Record<string, string> = {},
) {
	const spawned = spawnCli(
		["start", ...loopbackDaemonArgs(), "-z", "json", ...extraArgs],
		env,
	);
	const line = await spawned.waitForLine((l) =>
		l.includes('"msg":"flagd started"'),
	);
	return { spawned, addresses: JSON.parse(line) as Addresses };
}

/** Polls until the check passes, within a bounded time (no fixed sleeps). */
async function eventually(
	check: () => Promise<boolean>,
	timeoutMs = LINE_WAIT_MS,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline)
			throw new Error(`condition not met within ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

async function postJson(
	url: string,
	body: unknown,
): Promise<{ status: number; json: unknown }> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(body),
	});
	return { status: res.status, json: await res.json() };
}

let workDir: string;
let flagsPath: string;

beforeAll(() => {
	workDir = mkdtempSync(join(tmpdir(), "flagd-cli-"));
	flagsPath = join(workDir, "flags.json");
	writeFileSync(
		flagsPath,
		JSON.stringify({
			flags: {
				"cli-flag": {
					state: "ENABLED",
					variants: { on: true, off: false },
					defaultVariant: "off",
					targeting: { if: [{ "==": [{ var: "region" }, "eu"] }, "on", null] },
				},
			},
		}),
	);
});

afterEach(async () => {
	// Any daemon a failed test left running is killed, so Jest exits cleanly.
	for (const spawned of running.splice(0)) {
		if (spawned.child.exitCode === null && spawned.child.signalCode === null) {
			spawned.child.kill("SIGKILL");
			await spawned.exited;
		}
	}
});

afterAll(() => {
	rmSync(workDir, { recursive: true, force: true });
});

describe("flagd version and help", () => {
	it("prints name, version and node version", async () => {
		const { code, stdout } = await runToExit(["version"]);
		expect(code).toBe(0);
		expect(stdout).toBe(
			`flagd (@flagd-ts/daemon) 0.1.0\nnode ${process.version} (${process.platform}/${process.arch})`,
		);
	});

	it("lists every start flag with its short form, default and env var in `flagd start --help`", async () => {
		const { code, stdout } = await runToExit(["start", "--help"]);
		expect(code).toBe(0);
		const text = stdout.replace(/\s+/g, " ");
		for (const flag of DAEMON_FLAGS) {
			const short = flag.short === undefined ? "" : `-${flag.short}, `;
			expect(text).toContain(`${short}--${flag.name}`);
			const shown = flag.defaultText === "" ? '""' : flag.defaultText;
			expect(text).toContain(
				`(default ${shown}; env FLAGD_${flag.name.toUpperCase().replaceAll("-", "_")})`,
			);
		}
		expect(text).toContain("--config <file>");
	});

	it("prints the commands for `flagd --help` and a bare `flagd`", async () => {
		for (const args of [["--help"], []]) {
			const { code, stdout } = await runToExit(args);
			expect(code).toBe(0);
			expect(stdout).toContain("flagd start [flags]");
			expect(stdout).toContain("flagd version");
		}
	});
});

describe("flagd errors", () => {
	it("exits 1 on bad flags and env vars, naming every problem, without starting", async () => {
		const { code, stdout, stderr } = await runToExit(
			["start", "--port", "abc", "--bogus", "-f", "file:x.json"],
			{
				FLAGD_MANAGEMENT_PORT: "99999",
			},
		);
		expect(code).toBe(1);
		expect(stdout).toBe("");
		expect(stderr).toBe(
			[
				"flagd: invalid configuration (3 problems):",
				"  - unknown flag --bogus",
				"  - --port abc: --port must be an integer 0-65535",
				"  - FLAGD_MANAGEMENT_PORT=99999: --management-port must be an integer 0-65535",
				'Run "flagd start --help" to see every option.',
				"",
			].join("\n"),
		);
	});

	it("exits 1 on an unknown command", async () => {
		const { code, stderr } = await runToExit(["stop"]);
		expect(code).toBe(1);
		expect(stderr).toContain('flagd: unknown command "stop"');
	});

	describe("when a port is taken", () => {
		let blocker: Server;
		beforeAll(async () => {
			blocker = createServer();
			await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
		});
		afterAll(async () => {
			await new Promise<void>((r) => blocker.close(() => r()));
		});

		it("exits 1 with one line on stderr, no stack and no error in the log", async () => {
			const port = (blocker.address() as { port: number }).port;
			const { code, stderr, stdout } = await runToExit([
				"start",
				...loopbackDaemonArgs(port),
				"-f",
				`file:${flagsPath}`,
			]);
			expect(code).toBe(1);
			const lines = stderr.split("\n");
			expect(lines).toEqual([expect.any(String), ""]);
			expect(lines[0]).toMatch(
				new RegExp(`^flagd: failed to start: .*${port}.*EADDRINUSE`),
			);
			// The message says EADDRINUSE once per cause, not the cause appended to itself again.
			expect(lines[0]?.split("EADDRINUSE").length).toBeLessThanOrEqual(3);
			expect(stdout).not.toMatch(/ERROR|^\s+at /m);
		});
	});

	it("exits 1 when a source fails before its first sync, with one stderr line", async () => {
		const missing = join(workDir, "missing.json");
		const { spawned } = await startDaemonProcess(["-f", `file:${missing}`]);
		const { code } = await spawned.exited;
		expect(code).toBe(1);
		expect(spawned.stderr()).toBe(
			`flagd: a sync source failed before its first sync: file source "${missing}": cannot stat file: ENOENT: no such file or directory\n`,
		);
		expect(spawned.lines.filter((l) => l.includes('"level":"error"'))).toEqual(
			[],
		);
	});

	it("exits 1 on malformed JSON, with one stderr line", async () => {
		const broken = join(workDir, "broken.json");
		writeFileSync(broken, "{bad");
		const { spawned } = await startDaemonProcess(["-f", `file:${broken}`]);
		expect((await spawned.exited).code).toBe(1);
		expect(spawned.stderr()).toMatch(
			new RegExp(
				`^flagd: a sync source failed before its first sync: file source "${broken}": not valid JSON: [^\n]+\n$`,
			),
		);
	});

	it("names a bad --uri once, in one line", async () => {
		const { code, stderr } = await runToExit([
			"start",
			"--uri",
			"fil:good.json",
		]);
		expect(code).toBe(1);
		expect(stderr).toBe(
			[
				"flagd: invalid configuration (1 problem):",
				"  - --uri fil:good.json: invalid sync uri: must start with 'file:', 'http(s)://', 'grpc(s)://', 'dns:', 'uds:', 'gs://', 'azblob://', 's3://' or 'core.openfeature.dev/'",
				'Run "flagd start --help" to see every option.',
				"",
			].join("\n"),
		);
	});
});

describe("flagd start with invalid flags", () => {
	const good = {
		state: "ENABLED",
		variants: { on: true },
		defaultVariant: "on",
	};
	const bad = {
		state: "ENABLED",
		variants: { on: true },
		defaultVariant: "nope",
	};

	it("serves the valid flags, answers FLAG_NOT_FOUND for the invalid one, names it once and becomes ready", async () => {
		const file = join(workDir, "mixed.json");
		writeFileSync(file, JSON.stringify({ flags: { good, bad } }));
		const { spawned, addresses } = await startDaemonProcess([
			"-f",
			`file:${file}`,
		]);
		await spawned.waitForLine((l) => l.includes("flagd ready"));
		const ready = await fetch(`${addresses.management}/readyz`);
		expect(ready.status).toBe(200);
		const ok = await postJson(
			`${addresses.ofrep}/ofrep/v1/evaluate/flags/good`,
			{
				context: {},
			},
		);
		expect(ok).toMatchObject({ status: 200, json: { value: true } });
		const missing = await postJson(
			`${addresses.ofrep}/ofrep/v1/evaluate/flags/bad`,
			{ context: {} },
		);
		expect(missing).toMatchObject({
			status: 404,
			json: { errorCode: "FLAG_NOT_FOUND" },
		});
		const warnings = spawned.lines
			.map((l) => JSON.parse(l) as { level: string; msg: string })
			.filter((r) => r.level !== "info");
		expect(warnings).toEqual([
			expect.objectContaining({
				level: "warn",
				msg: `source ${file}: 1 invalid flag is not served: "bad" (/flags/bad/defaultVariant: defaultVariant "nope" is not one of the variants (on))`,
			}),
		]);
		expect(spawned.stderr()).toBe("");
	});

	it("with --strict-validation rejects the document: one stderr line, exit 1", async () => {
		const file = join(workDir, "mixed-strict.json");
		writeFileSync(file, JSON.stringify({ flags: { good, bad } }));
		const { spawned } = await startDaemonProcess([
			"-f",
			`file:${file}`,
			"--strict-validation",
		]);
		expect((await spawned.exited).code).toBe(1);
		expect(spawned.stderr()).toBe(
			`flagd: a sync source failed before its first sync: source ${file}: invalid flag document: /flags/bad/defaultVariant: defaultVariant "nope" is not one of the variants (on)\n`,
		);
	});

	it("logs a reload at info with the changed keys, and never calls a rejected file good", async () => {
		const file = join(workDir, "reload.json");
		writeFileSync(file, JSON.stringify({ flags: { a: good, b: good } }));
		const { spawned } = await startDaemonProcess([
			"-f",
			`file:${file}`,
			"--strict-validation",
		]);
		await spawned.waitForLine((l) => l.includes("flagd ready"));
		writeFileSync(file, "{broken");
		await spawned.waitForLine((l) => l.includes("file unusable"));
		// Valid JSON again, but rejected by --strict-validation: not "good again".
		writeFileSync(file, JSON.stringify({ flags: { a: good, b: bad } }));
		await spawned.waitForLine((l) => l.includes("invalid flag document"));
		writeFileSync(
			file,
			JSON.stringify({ flags: { a: good, c: good, d: good } }),
		);
		const updated = await spawned.waitForLine((l) =>
			l.includes("flags updated"),
		);
		expect(JSON.parse(updated)).toMatchObject({
			level: "info",
			msg: `flags updated from ${file}: 3 flag(s), 3 changed: c, d, b`,
			changedKeys: ["c", "d", "b"],
		});
		expect(spawned.lines.join("\n")).not.toMatch(/good again|usable again/);
	});
});

describe("flagd start", () => {
	it("serves OFREP, Connect and management, then exits 0 quickly on SIGTERM", async () => {
		const { spawned, addresses } = await startDaemonProcess([
			"-f",
			`file:${flagsPath}`,
			"-X",
			"region=eu",
		]);
		expect(addresses.evaluation).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		await eventually(
			async () =>
				(await fetch(`${addresses.management}/readyz`)).status === 200,
		);
		expect((await fetch(`${addresses.management}/healthz`)).status).toBe(200);

		// -X region=eu is static context, so the targeting matches without any request context.
		const ofrep = await postJson(
			`${addresses.ofrep}/ofrep/v1/evaluate/flags/cli-flag`,
			{ context: {} },
		);
		expect(ofrep).toMatchObject({
			status: 200,
			json: { key: "cli-flag", value: true, reason: "TARGETING_MATCH" },
		});
		const connect = await postJson(
			`${addresses.evaluation}/flagd.evaluation.v1.Service/ResolveBoolean`,
			{
				flagKey: "cli-flag",
				context: {},
			},
		);
		expect(connect).toMatchObject({
			status: 200,
			json: { value: true, variant: "on" },
		});

		const started = Date.now();
		spawned.child.kill("SIGTERM");
		const { code } = await spawned.exited;
		expect(code).toBe(0);
		expect(Date.now() - started).toBeLessThan(5_000);
		const records = spawned.lines.map(
			(l) => JSON.parse(l) as { msg: string; reason?: string },
		);
		expect(records).toContainEqual(
			expect.objectContaining({
				msg: "flagd shutting down",
				reason: "SIGTERM",
			}),
		);
	});

	it("exits 0 on SIGINT (Ctrl+C) too", async () => {
		const { spawned } = await startDaemonProcess(["-f", `file:${flagsPath}`]);
		spawned.child.kill("SIGINT");
		expect(await spawned.exited).toEqual({ code: 0, signal: null });
	});

	it("reads a YAML config file, with env vars overriding it", async () => {
		const configPath = join(workDir, "flagd.yaml");
		writeFileSync(
			configPath,
			`uri:\n  - file:${flagsPath}\ncontext-value:\n  region: us\n`,
		);
		const { spawned, addresses } = await startDaemonProcess(
			["--config", configPath],
			{
				FLAGD_CONTEXT_VALUE: "region=eu",
			},
		);
		await eventually(
			async () =>
				(await fetch(`${addresses.management}/readyz`)).status === 200,
		);
		const ofrep = await postJson(
			`${addresses.ofrep}/ofrep/v1/evaluate/flags/cli-flag`,
			{ context: {} },
		);
		expect(ofrep.json).toMatchObject({ value: true });
		spawned.child.kill("SIGTERM");
		expect((await spawned.exited).code).toBe(0);
	});

	it("logs readable console lines by default", async () => {
		const spawned = spawnCli([
			"start",
			...loopbackDaemonArgs(),
			"-f",
			`file:${flagsPath}`,
		]);
		const line = await spawned.waitForLine((l) => l.includes("flagd started"));
		expect(line).toMatch(
			/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}INFO {3}flagd started {2}evaluation=http:\/\/127\.0\.0\.1:\d+ {2}management=/,
		);
		spawned.child.kill("SIGTERM");
		expect((await spawned.exited).code).toBe(0);
	});
});

describe("npm start (scripts/start.mjs)", () => {
	it("starts the daemon on the example flags, prints a curl line, and that request works", async () => {
		const spawned = spawnNode([
			join(repoRoot, "scripts/start.mjs"),
			...freePortArgs(),
		]);
		const curl = await spawned.waitForLine(
			(l) => l.trim().startsWith("curl ") && l.includes("/ofrep/"),
		);
		const match =
			/curl -sS -X POST (\S+) -H 'Content-Type: application\/json' -d '([^']+)'/.exec(
				curl,
			);
		expect(match).not.toBeNull();
		const [, url, body] = match as RegExpExecArray;
		expect(url).toMatch(
			/^http:\/\/127\.0\.0\.1:\d+\/ofrep\/v1\/evaluate\/flags\/show-welcome-banner$/,
		);
		// The curl line may print before the first sync completes; retry until the flag is served.
		let answer: { status: number; json: unknown } = {
			status: 0,
			json: undefined,
		};
		await eventually(async () => {
			answer = await postJson(url as string, JSON.parse(body as string));
			return answer.status === 200;
		});
		expect(answer.json).toMatchObject({
			key: "show-welcome-banner",
			value: true,
			variant: "on",
		});
		expect(spawned.lines.join("\n")).toMatch(
			/evaluation \(gRPC, gRPC-web, Connect\) +http:\/\/127\.0\.0\.1:\d+/,
		);

		spawned.child.kill("SIGTERM");
		expect((await spawned.exited).code).toBe(0);
	});
});

describe("npm start with TLS", () => {
	it("prints curl lines that work against the daemon's self-signed certificate", async () => {
		const tls = createTlsFixtures();
		const spawned = spawnNode([
			join(repoRoot, "scripts/start.mjs"),
			...freePortArgs(),
			"-c",
			tls.serverCertPath,
			"-k",
			tls.serverKeyPath,
		]);
		try {
			const curl = await spawned.waitForLine(
				(l) => l.trim().startsWith("curl ") && l.includes("/ofrep/"),
			);
			const match =
				/curl -sS -k -X POST (https:\/\/\S+) -H 'Content-Type: application\/json' -d '([^']+)'/.exec(
					curl,
				);
			expect(match).not.toBeNull();
			const [, url, body] = match as RegExpExecArray;
			// Run the printed command itself with the real curl: it must print the flag, not an error.
			let out = "";
			await eventually(async () => {
				const run = spawnSync(
					"curl",
					[
						"-sS",
						"-k",
						"-X",
						"POST",
						url as string,
						"-H",
						"Content-Type: application/json",
						"-d",
						body as string,
					],
					{ encoding: "utf8", timeout: 10_000 },
				);
				out = run.stdout;
				return run.status === 0 && out.includes('"value":true');
			});
			expect(JSON.parse(out)).toMatchObject({
				key: "show-welcome-banner",
				value: true,
			});
		} finally {
			spawned.child.kill("SIGTERM");
			await spawned.exited;
			tls.remove();
		}
	});
});

describe("flagd start robustness", () => {
	it("keeps serving when its stdout reader goes away, and still exits 0 on SIGTERM", async () => {
		const { spawned, addresses } = await startDaemonProcess([
			"-f",
			`file:${flagsPath}`,
		]);
		spawned.child.stdout!.destroy();
		// Make the daemon log after its stdout closed: every request below is served while writes fail with EPIPE.
		for (let i = 0; i < 3; i++) {
			expect((await fetch(`${addresses.management}/healthz`)).status).toBe(200);
		}
		const ofrep = await postJson(
			`${addresses.ofrep}/ofrep/v1/evaluate/flags/no-such-flag`,
			{ context: {} },
		);
		expect(ofrep.status).toBe(404);
		expect(spawned.child.exitCode).toBeNull();
		spawned.child.kill("SIGTERM");
		expect((await spawned.exited).code).toBe(0);
	});
});
