/**
 * docs/faq.md: runs its two Node examples against the real daemon CLI (a child process on a private copy of
 * docs/examples/flags.json) and performs the actions the page describes, each only after the example printed the
 * line that shows the previous step took effect: edit the flag file, stop the daemon, start it again on the same
 * port, press Ctrl+C; and for late-daemon.ts, start the daemon only after the example gave up waiting. The
 * example's stdout must equal the page's output block (the only substitutions: the port and the deadline in an
 * error message; the examples get a longer FLAGD_DEADLINE_MS, see SLOW_MACHINE_ENV).
 * The two examples run at the same time, each against its own daemon.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DocPage, substitute } from "./doc-blocks.js";
import { SLOW_MACHINE_ENV } from "./doc-daemon.js";
import { type ExampleDaemon, startExampleDaemon } from "./example-daemon.js";
import { type Settled, settled, unwrap } from "./settled.js";
import { ShellProcess } from "./shell-process.js";

const page = new DocPage("faq.md");

/** A port nothing listens on right now (bound, then released). */
async function unusedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	await new Promise<void>((resolve) => server.close(() => resolve()));
	if (address === null || typeof address === "string")
		throw new Error("no port");
	return address.port;
}

interface ScenarioResult {
	readonly stdout: string;
	readonly stderr: string;
	readonly code: number | null;
	readonly expected: string;
}

describe("docs/faq.md", () => {
	const daemons: ExampleDaemon[] = [];
	const samples: ShellProcess[] = [];

	/** events.ts: the actions the page lists, each after the line showing the previous one took effect. */
	async function eventsScenario(): Promise<ScenarioResult> {
		const daemon = await startExampleDaemon();
		daemons.push(daemon);
		const script = page.run("events");
		expect(script).toContain(page.sample("docs/examples/node/events.ts"));
		const sample = new ShellProcess(script, {
			env: { ...SLOW_MACHINE_ENV, FLAGD_PORT: String(daemon.ports.evaluation) },
		});
		samples.push(sample);
		await sample.waitFor(/ {2}second: [^\n]*\n/);

		const document = JSON.parse(readFileSync(daemon.flagFile, "utf8")) as {
			flags: Record<string, { defaultVariant: string }>;
		};
		const maxItems = document.flags["max-items"];
		if (maxItems === undefined)
			throw new Error("the example flags lost max-items");
		maxItems.defaultVariant = "large";
		writeFileSync(daemon.flagFile, JSON.stringify(document, null, 2));
		await sample.waitFor(/after the change: max-items = 100[^\n]*\n/);

		await daemon.stop();
		await sample.waitFor(/while stale: [^\n]*\n/);
		await daemon.restart();
		await sample.waitFor(/\(no list\)\n {2}after the change: [^\n]*\n/);

		const result = await sample.stop("SIGINT");
		return { ...result, expected: page.output("events") };
	}

	/** late-daemon.ts: the daemon starts only after the example gave up waiting for it. */
	async function lateDaemonScenario(): Promise<ScenarioResult> {
		const port = await unusedPort();
		const script = page.run("late-daemon");
		expect(script).toContain(page.sample("docs/examples/node/late-daemon.ts"));
		// 2 s instead of 5 s: this example waits out the deadline once, on purpose.
		const sample = new ShellProcess(script, {
			env: { FLAGD_DEADLINE_MS: "2000", FLAGD_PORT: String(port) },
		});
		samples.push(sample);
		await sample.waitFor(/before: [^\n]*\n/);
		daemons.push(await startExampleDaemon({ port }));
		const result = await sample.exited;
		return {
			...result,
			expected: substitute(page.output("late-daemon"), {
				"deadlineMs=500": "deadlineMs=2000",
				"127.0.0.1:8013": `127.0.0.1:${port}`,
			}),
		};
	}

	let events: Promise<Settled<ScenarioResult>>;
	let lateDaemon: Promise<Settled<ScenarioResult>>;

	beforeAll(() => {
		events = settled(eventsScenario());
		lateDaemon = settled(lateDaemonScenario());
	});

	afterAll(async () => {
		await Promise.all([events, lateDaemon]);
		for (const sample of samples) await sample.stop();
		for (const daemon of daemons) await daemon.dispose();
	});

	it("events.ts: a flag change, a daemon restart and Ctrl+C print the documented lines", async () => {
		const result = await unwrap(events);
		expect(result.stdout).toBe(result.expected);
		expect(result.code).toBe(0);
		expect(result.stderr).toContain(
			"event stream lost (stream ended by the server); reconnecting in ",
		);
	});

	it("late-daemon.ts: fails to initialize, then gets READY once the daemon starts", async () => {
		const result = await unwrap(lateDaemon);
		expect(result.stdout).toBe(result.expected);
		expect(result.code).toBe(0);
	});

	it("ran or compared every block of the page", async () => {
		await Promise.all([events, lateDaemon]);
		expect(page.unused()).toEqual([]);
	});
});
