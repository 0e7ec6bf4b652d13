/**
 * Follows docs/quick-start-node.md step by step: runs its `npm start` block (the real script, the real daemon in
 * a child process), its curl blocks and `node --import tsx docs/examples/node/quick-start.ts`, and compares what
 * each prints with the page; then step 5 (a certificate made with openssl, the daemon with TLS, the same example
 * over TLS). The only changes to what a reader types: FLAGD_*_PORT=0 for the daemon (a documented alternative to
 * flags) and the ports it picked substituted into the curl URLs and FLAGD_PORT of the example.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { DocPage, substitute } from "./doc-blocks.js";
import {
	FREE_PORTS_ENV,
	type ServicePorts,
	SLOW_MACHINE_ENV,
	waitForDaemon,
} from "./doc-daemon.js";
import { runShell, ShellProcess } from "./shell-process.js";

const page = new DocPage("quick-start-node.md");

describe("docs/quick-start-node.md", () => {
	let daemon: ShellProcess | undefined;
	let ports: ServicePorts;

	afterAll(async () => {
		await daemon?.stop();
	});

	it("step 2: `npm start` runs the daemon on the example flags", async () => {
		daemon = new ShellProcess(page.run("npm-start"), { env: FREE_PORTS_ENV });
		ports = await waitForDaemon(daemon);
		expect(daemon.stdout).toContain(
			"flagd is running on docs/examples/flags.json",
		);
		expect(daemon.stdout).toContain("flagd ready: every source has synced");
	});

	it("step 3: curl over OFREP prints the documented answer", async () => {
		const script = substitute(page.run("curl-ofrep"), {
			"127.0.0.1:8016": `127.0.0.1:${ports.ofrep}`,
		});
		const result = await runShell(script);
		expect(result.code).toBe(0);
		expect(result.stdout.trim()).toBe(page.output("curl-ofrep").trim());
	});

	it("step 3: curl over the Connect protocol prints the documented answer", async () => {
		const script = substitute(page.run("curl-connect"), {
			"127.0.0.1:8013": `127.0.0.1:${ports.evaluation}`,
		});
		const result = await runShell(script);
		expect(result.code).toBe(0);
		expect(result.stdout.trim()).toBe(page.output("curl-connect").trim());
	});

	it("step 4: the Node example prints the documented lines", async () => {
		const sample = page.sample("docs/examples/node/quick-start.ts");
		const script = page.run("node-quick-start");
		expect(script).toContain(sample);
		const result = await runShell(script, {
			env: { ...SLOW_MACHINE_ENV, FLAGD_PORT: String(ports.evaluation) },
		});
		expect(result.stderr).toBe("");
		expect(result.stdout).toBe(page.output("node-quick-start"));
		expect(result.code).toBe(0);
	});

	it("step 4b: the in-process example prints the documented lines", async () => {
		const sample = page.sample("docs/examples/node/quick-start-in-process.ts");
		const script = page.run("node-in-process");
		expect(script).toContain(sample);
		const result = await runShell(script, {
			env: { ...SLOW_MACHINE_ENV, FLAGD_SYNC_PORT: String(ports.sync) },
		});
		expect(result.stderr).toBe("");
		expect(result.stdout).toBe(page.output("node-in-process"));
		expect(result.code).toBe(0);
	});

	it("step 4b: the same program in file mode, without the daemon, prints the same lines", async () => {
		const script = page.run("node-file");
		expect(script).toContain(
			page.sample("docs/examples/node/quick-start-in-process.ts"),
		);
		const result = await runShell(script, { env: SLOW_MACHINE_ENV });
		expect(result.stderr).toBe("");
		expect(result.stdout).toBe(page.output("node-in-process"));
		expect(result.code).toBe(0);
	});

	it("Ctrl+C stops the daemon cleanly", async () => {
		const result = await daemon?.stop("SIGINT");
		expect(result?.stdout).toMatch(/flagd shutting down/);
		expect(result?.stdout).toMatch(/flagd exiting\s+exitCode=0/);
		expect(daemon?.running).toBe(false);
	});

	it("step 5: the same example over TLS, configured by environment variables", async () => {
		const cert = await runShell(page.run("make-cert"));
		expect(cert.code).toBe(0);
		daemon = new ShellProcess(page.run("npm-start-tls"), {
			env: FREE_PORTS_ENV,
		});
		ports = await waitForDaemon(daemon);
		expect(daemon.stdout).toContain(
			`evaluation=https://127.0.0.1:${ports.evaluation}`,
		);
		const result = await runShell(page.run("node-quick-start-tls"), {
			env: { ...SLOW_MACHINE_ENV, FLAGD_PORT: String(ports.evaluation) },
		});
		expect(result.stderr).toBe("");
		expect(result.stdout).toBe(page.output("node-quick-start"));
		expect(result.code).toBe(0);
		expect((await daemon.stop("SIGINT")).stdout).toMatch(
			/flagd exiting\s+exitCode=0/,
		);
	});

	it("ran or compared every block of the page", () => {
		expect(page.unused()).toEqual([]);
	});
});
