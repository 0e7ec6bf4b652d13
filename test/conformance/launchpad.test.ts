/**
 * The launchpad's own contract, against the real daemon: allFlags.json is built at start, deleted during a
 * restart's outage and rebuilt after it on the same ports, and `change` flips changing-flag for the running daemon.
 */
import { access, readFile } from "node:fs/promises";
import * as net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Launchpad } from "./launchpad.js";

let launchpad: Launchpad;

beforeAll(async () => {
	launchpad = await Launchpad.create();
}, 30_000);

afterAll(async () => {
	await launchpad.dispose();
});

async function ofrepVariant(key: string): Promise<unknown> {
	const response = await fetch(
		`http://127.0.0.1:${launchpad.ports.ofrep}/ofrep/v1/evaluate/flags/${key}`,
		{
			method: "POST",
			headers: { "content-type": "application/json" },
			body: "{}",
		},
	);
	return ((await response.json()) as { variant?: unknown }).variant;
}

async function waitFor(
	condition: () => Promise<boolean>,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline)
			throw new Error(`condition not met within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

const exists = (file: string) =>
	access(file).then(
		() => true,
		() => false,
	);

describe("Launchpad", () => {
	it("starts the default config with the merged allFlags.json", async () => {
		await launchpad.start("default");
		const merged = JSON.parse(
			await readFile(
				path.join(launchpad.dir, "flags", "allFlags.json"),
				"utf8",
			),
		) as {
			flags: Record<string, unknown>;
		};
		expect(merged.flags["boolean-flag"]).toBeDefined();
		expect(merged.flags["selector-flag"]).toBeUndefined(); // selector-* files are not merged
		await expect(ofrepVariant("boolean-flag")).resolves.toBe("on");
	});

	it("flips changing-flag and the running daemon serves the new variant", async () => {
		const before = await ofrepVariant("changing-flag");
		const after = await launchpad.change();
		expect(after).not.toBe(before);
		await waitFor(
			async () => (await ofrepVariant("changing-flag")) === after,
			5_000,
		);
	});

	it("restarts after the outage on the same ports, without allFlags.json in between", async () => {
		const allFlags = path.join(launchpad.dir, "flags", "allFlags.json");
		const ports = { ...launchpad.ports };
		const started = Date.now();
		await launchpad.restart(1);
		expect(launchpad.running).toBe(false);
		expect(await exists(allFlags)).toBe(false);
		await expect(ofrepVariant("boolean-flag")).rejects.toThrow();
		await launchpad.settle();
		expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
		expect(launchpad.ports).toEqual(ports);
		expect(await exists(allFlags)).toBe(true);
		await expect(ofrepVariant("boolean-flag")).resolves.toBe("on");
	}, 20_000);

	it("dispose during an outage cancels the restart and frees the ports", async () => {
		const other = await Launchpad.create();
		await other.start("default");
		await other.restart(30);
		const started = Date.now();
		await other.dispose();
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(other.running).toBe(false);
		await expect(exists(other.dir)).resolves.toBe(false);
		// Nothing listens on the evaluation port any more: binding it succeeds.
		const server = net.createServer();
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(other.ports.evaluation, "127.0.0.1", () => resolve());
		});
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}, 20_000);
});
