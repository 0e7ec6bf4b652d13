/**
 * The three-tier fan-out topology (docs/deployment.md): one upstream daemon reads a flag file and serves the
 * flagd.sync.v1 service; three edge daemons sync from it over grpc://; a Node provider talks to each edge. All
 * real processes' worth of parts in one: real listeners on 127.0.0.1, a real file watcher, real gRPC streams.
 * Checks that a change upstream reaches the providers on every edge, and that edges keep serving their last state
 * while the upstream is down and catch up when it returns on the same port.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	type Client,
	type EventDetails,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/server-sdk";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { parseSourceUri } from "../../packages/daemon/src/syncs/parse-source-uri.js";
import { INIT_DEADLINE_MS } from "../support/provider-test-helpers.js";

const EDGES = 3;

function flagFile(color: string): string {
	return JSON.stringify({
		flags: {
			"banner-color": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
			},
		},
	});
}

async function writeAtomically(path: string, content: string): Promise<void> {
	await writeFile(`${path}.tmp`, content);
	await rename(`${path}.tmp`, path);
}

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	await new Promise<void>((resolve) => server.close(() => resolve()));
	if (address === null || typeof address === "string")
		throw new Error("no port");
	return address.port;
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
async function eventually(
	check: () => Promise<boolean>,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline)
			throw new Error(`condition not met within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

describe("fan-out: upstream → edge daemons → providers", () => {
	let dir: string;
	let flagsPath: string;
	let syncPort: number;
	let upstream: RunningDaemon | undefined;
	const edges: RunningDaemon[] = [];
	const clients: Client[] = [];

	async function startUpstream(): Promise<RunningDaemon> {
		const daemon = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				ofrepPort: 0,
				syncPort,
				bindAddress: "127.0.0.1",
				sources: [parseSourceUri(`file:${flagsPath}`)],
			}),
		);
		await daemon.ready;
		return daemon;
	}

	async function bannerColors(): Promise<string[]> {
		return Promise.all(
			clients.map((c) => c.getStringValue("banner-color", "unset")),
		);
	}

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "fan-out-"));
		flagsPath = join(dir, "flags.json");
		await writeFile(flagsPath, flagFile("red"));
		syncPort = await freePort();
		upstream = await startUpstream();
		for (let i = 0; i < EDGES; i++) {
			const edge = await startDaemon(
				defaultDaemonConfig({
					port: 0,
					managementPort: 0,
					ofrepPort: 0,
					syncPort: 0,
					bindAddress: "127.0.0.1",
					sources: [parseSourceUri(`grpc://127.0.0.1:${syncPort}`)],
				}),
			);
			await edge.ready;
			edges.push(edge);
			const domain = `edge-${i}`;
			await OpenFeature.setProviderAndWait(
				domain,
				new FlagdProvider({
					host: "127.0.0.1",
					port: edge.ports.evaluation,
					deadlineMs: INIT_DEADLINE_MS,
					cache: "disabled",
				}),
			);
			clients.push(OpenFeature.getClient(domain));
		}
	});

	afterAll(async () => {
		await OpenFeature.close();
		await Promise.all(edges.map((e) => e.close()));
		await upstream?.close();
		await rm(dir, { recursive: true, force: true });
	});

	it("every edge serves the upstream's flags", async () => {
		expect(await bannerColors()).toEqual(["red", "red", "red"]);
	});

	it("a change upstream reaches the provider on every edge as CONFIGURATION_CHANGED", async () => {
		const changed = clients.map(
			(client) =>
				new Promise<string[]>((resolve) => {
					const handler = (details?: EventDetails) => {
						client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
						resolve((details?.flagsChanged as string[] | undefined) ?? []);
					};
					client.addHandler(ProviderEvents.ConfigurationChanged, handler);
				}),
		);
		await writeAtomically(flagsPath, flagFile("blue"));
		const keys = await Promise.all(changed);
		for (const k of keys) expect(k).toContain("banner-color");
		expect(await bannerColors()).toEqual(["blue", "blue", "blue"]);
	});

	it("edges keep serving their last state while the upstream is down, and catch up when it returns", async () => {
		await upstream?.close();
		upstream = undefined;
		// Down: a change made now cannot propagate, and every edge still answers from its last state.
		await writeAtomically(flagsPath, flagFile("red"));
		expect(await bannerColors()).toEqual(["blue", "blue", "blue"]);
		for (const edge of edges) {
			const res = await fetch(
				`http://127.0.0.1:${edge.ports.management}/readyz`,
			);
			expect(res.status).toBe(200);
		}
		upstream = await startUpstream();
		await eventually(
			async () => (await bannerColors()).every((c) => c === "red"),
			20_000,
		);
	}, 30_000);
});
