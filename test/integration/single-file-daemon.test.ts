/**
 * The single-file daemon (scripts/bundle-daemon.mjs → one ESM file run by `node`): built here, copied ALONE into an
 * empty directory (no node_modules beside it, so nothing can be resolved from the workspace), started as a real
 * process on free ports, queried over Connect JSON, OFREP and the management port, and stopped with SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { freePortArgs } from "../support/daemon-argv.js";

const root = join(__dirname, "../..");

interface Started {
	evaluation: string;
	management: string;
	ofrep: string;
}

describe("single-file daemon bundle", () => {
	const dir = mkdtempSync(join(tmpdir(), "flagd-single-file-"));
	let child: ChildProcess | undefined;
	let urls: Started;

	beforeAll(async () => {
		execFileSync(process.execPath, [join(root, "scripts/bundle-daemon.mjs")], {
			cwd: root,
			stdio: "pipe",
		});
		copyFileSync(
			join(root, "packages/daemon/dist/flagd.mjs"),
			join(dir, "flagd.mjs"),
		);
		writeFileSync(
			join(dir, "flags.json"),
			JSON.stringify({
				flags: {
					greeting: {
						state: "ENABLED",
						variants: { hi: "hello", yo: "yo" },
						defaultVariant: "hi",
					},
				},
			}),
		);
		const args = ["flagd.mjs", "start", ...freePortArgs()];
		args.push(
			"--bind-address",
			"127.0.0.1",
			"--log-format",
			"json",
			"--uri",
			"file:flags.json",
		);
		child = spawn(process.execPath, args, {
			cwd: dir,
			stdio: ["ignore", "pipe", "pipe"],
		});
		urls = await new Promise<Started>((resolve, reject) => {
			let buffered = "";
			const timer = setTimeout(
				() => reject(new Error(`no "flagd ready" line: ${buffered}`)),
				15_000,
			);
			let started: Started | undefined;
			child?.stdout?.on("data", (chunk: Buffer) => {
				buffered += chunk.toString();
				for (const line of buffered.split("\n")) {
					if (!line.startsWith("{")) continue;
					const entry = JSON.parse(line) as { msg: string } & Started;
					if (entry.msg === "flagd started") started = entry;
					if (entry.msg.startsWith("flagd ready") && started !== undefined) {
						clearTimeout(timer);
						resolve(started);
					}
				}
			});
			child?.on("exit", (code) =>
				reject(new Error(`exited with ${code}: ${buffered}`)),
			);
		});
	}, 60_000);

	afterAll(() => {
		if (child?.exitCode === null) child.kill("SIGKILL");
		rmSync(dir, { recursive: true, force: true });
	});

	it("answers Connect JSON on the evaluation port", async () => {
		const res = await fetch(
			`${urls.evaluation}/flagd.evaluation.v1.Service/ResolveString`,
			{
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ flagKey: "greeting", context: {} }),
			},
		);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({
			value: "hello",
			reason: "STATIC",
			variant: "hi",
			metadata: {},
		});
	});

	it("answers OFREP and readiness", async () => {
		const res = await fetch(`${urls.ofrep}/ofrep/v1/evaluate/flags/greeting`, {
			method: "POST",
		});
		expect(await res.json()).toMatchObject({
			key: "greeting",
			value: "hello",
			reason: "STATIC",
		});
		expect((await fetch(`${urls.management}/readyz`)).status).toBe(200);
	});

	it("exits 0 on SIGTERM", async () => {
		const exited = new Promise<number | null>((resolve) =>
			child?.once("exit", (code) => resolve(code)),
		);
		child?.kill("SIGTERM");
		expect(await exited).toBe(0);
	});
});
