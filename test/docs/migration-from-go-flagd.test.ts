/**
 * docs/migration-from-go-flagd.md: every `flagd …` block runs as a bash script made of the page's alias block
 * followed by the command block (bash expands aliases in scripts once `expand_aliases` is on), from the repository
 * root. Daemons get FLAGD_*_PORT=0, which overrides the config file's ports as documented (flag > env > file), and
 * the curl lines get the ports the daemon logged. The scenarios are independent and run at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DocPage, substitute } from "./doc-blocks.js";
import {
	FREE_PORTS_ENV,
	type ServicePorts,
	waitForDaemon,
} from "./doc-daemon.js";
import { type Settled, settled, unwrap } from "./settled.js";
import { type ExitResult, runShell, ShellProcess } from "./shell-process.js";

const page = new DocPage("migration-from-go-flagd.md");

/** The command block preceded by the page's alias definition. */
function withAlias(id: string): string {
	return `shopt -s expand_aliases\n${page.run("alias")}${page.run(id)}`;
}

describe("docs/migration-from-go-flagd.md", () => {
	const started: ShellProcess[] = [];

	function startDaemonBlock(id: string): ShellProcess {
		const daemon = new ShellProcess(withAlias(id), { env: FREE_PORTS_ENV });
		started.push(daemon);
		return daemon;
	}

	/** The flag command line, then the page's curl lines against it, then SIGTERM. */
	async function flagsScenario(): Promise<{
		resolve: ExitResult;
		ready: ExitResult;
		stopped: ExitResult;
		startLog: string;
	}> {
		const daemon = startDaemonBlock("start-flags");
		const ports = await waitForDaemon(daemon);
		const startLog = daemon.stdout;
		const resolve = await runShell(
			substitute(page.run("curl-resolve"), {
				"localhost:8013": `localhost:${ports.evaluation}`,
			}),
		);
		const ready = await runShell(
			substitute(page.run("curl-readyz"), {
				"localhost:8014": `localhost:${ports.management}`,
			}),
		);
		return { resolve, ready, stopped: await daemon.stop(), startLog };
	}

	async function configScenario(): Promise<{
		ports: ServicePorts;
		stopped: ExitResult;
	}> {
		const daemon = startDaemonBlock("start-config");
		const ports = await waitForDaemon(daemon);
		return { ports, stopped: await daemon.stop() };
	}

	let flags: Promise<Settled<Awaited<ReturnType<typeof flagsScenario>>>>;
	let config: Promise<Settled<Awaited<ReturnType<typeof configScenario>>>>;
	let rejected: Record<string, Promise<Settled<ExitResult>>>;

	// The scenarios are independent child processes: start them together.
	beforeAll(() => {
		flags = settled(flagsScenario());
		config = settled(configScenario());
		rejected = Object.fromEntries(
			["oauth", "envoy"].map((id) => [
				id,
				settled(runShell(withAlias(id), { env: FREE_PORTS_ENV })),
			]),
		);
	});

	afterAll(async () => {
		await Promise.all([flags, config, ...Object.values(rejected)]);
		for (const daemon of started) await daemon.stop();
	});

	it("a Go flagd command line starts the daemon and answers flagd's requests", async () => {
		const { resolve, ready, stopped, startLog } = await unwrap(flags);
		expect(startLog).toContain("docs/examples/flags.json");
		expect(resolve.code).toBe(0);
		expect(resolve.stdout.trim()).toBe(page.output("curl-resolve").trim());
		expect(ready.code).toBe(0);
		expect(ready.stdout).toBe(page.output("curl-readyz"));
		expect(stopped.stdout).toMatch(/flagd exiting\s+exitCode=0/);
	});

	it("a flagd config file starts the daemon (FLAGD_*_PORT override the file's ports)", async () => {
		const { ports, stopped } = await unwrap(config);
		expect(ports.evaluation).not.toBe(8013);
		expect(stopped.stdout).toContain("docs/examples/flags.json");
		expect(stopped.stdout).toMatch(/flagd exiting\s+exitCode=0/);
	});

	it.each(["oauth", "envoy"])(
		"an unsupported option (%s) is rejected with the documented message and exit code 1",
		async (id) => {
			const result = await unwrap(
				rejected[id] ?? Promise.reject(new Error(id)),
			);
			expect(result.stderr).toBe(page.output(id));
			expect(result.code).toBe(1);
		},
	);

	it("ran or compared every block of the page", async () => {
		await Promise.all([flags, config, ...Object.values(rejected)]);
		expect(page.unused()).toEqual([]);
	});
});
