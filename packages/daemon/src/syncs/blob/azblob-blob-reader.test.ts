/** azblob source against azurite (a real Azure Blob-compatible server), started once for this file as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createSyncSource } from "../create-sync-source.js";
import { parseSourceUri } from "../parse-source-uri.js";
import {
	flagDocument,
	syncTestRun,
	waitFor,
} from "../testdata/sync-test-kit.js";

const run = syncTestRun();

/** Azurite's well-known development account. */
const ACCOUNT = "devstoreaccount1";
const KEY =
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

let azurite: ChildProcess;
let dir: string;
let port: number;
let connectionString: string;

async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
	const { port: chosen } = probe.address() as { port: number };
	await new Promise((r) => probe.close(r));
	return chosen;
}

async function accepting(): Promise<boolean> {
	return new Promise((r) => {
		const socket = connect(port, "127.0.0.1");
		socket.once("connect", () => {
			socket.destroy();
			r(true);
		});
		socket.once("error", () => r(false));
	});
}

async function upload(name: string, body: string): Promise<void> {
	const container =
		BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
			"flags",
		);
	await container.createIfNotExists();
	await container
		.getBlockBlobClient(name)
		.upload(body, Buffer.byteLength(body), {
			blobHTTPHeaders: { blobContentType: "application/json" },
		});
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "azurite-"));
	port = await freePort();
	const bin = resolve(
		__dirname,
		"../../../../../node_modules/.bin/azurite-blob",
	);
	azurite = spawn(
		bin,
		[
			"--blobHost",
			"127.0.0.1",
			"--blobPort",
			String(port),
			"--location",
			dir,
			"--silent",
			"--skipApiVersionCheck",
			"--loose",
			"--disableTelemetry",
		],
		{ stdio: "ignore" },
	);
	connectionString = `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`;
	await waitFor(accepting, "azurite to accept connections", 20_000, 50);
}, 30_000);

afterAll(async () => {
	const exited = new Promise((r) => azurite.once("exit", r));
	azurite.kill("SIGTERM");
	await exited;
	await rm(dir, { recursive: true, force: true });
});

async function start(name: string, env: Record<string, string>) {
	const source = await createSyncSource(
		{ ...parseSourceUri(`azblob://flags/${name}`), intervalMs: 40 },
		{ logger: run.logger(), env },
	);
	return run.collect(source);
}

describe("azblob blob source (azurite)", () => {
	it("reads with a connection string and emits only changed content", async () => {
		await upload("flags.json", flagDocument("on"));
		const { source, collector } = await start("flags.json", {
			AZURE_STORAGE_CONNECTION_STRING: connectionString,
		});
		expect(await collector.next()).toEqual({
			source: "azblob://flags/flags.json",
			content: flagDocument("on"),
			format: "json",
		});
		expect(source.isReady()).toBe(true);
		await upload("flags.json", "[]");
		await waitFor(
			() => run.entries.some((e) => e.level === "warn"),
			"a warning for a non-object document",
		);
		await upload("flags.json", flagDocument("off"));
		expect((await collector.next()).content).toBe(flagDocument("off"));
		expect(collector.untaken).toBe(0);
	});

	it("reads with AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY against the local emulator", async () => {
		await upload("account.json", flagDocument("off"));
		const { collector } = await start("account.json", {
			AZURE_STORAGE_ACCOUNT: ACCOUNT,
			AZURE_STORAGE_KEY: KEY,
			AZURE_STORAGE_DOMAIN: `127.0.0.1:${port}`,
			AZURE_STORAGE_PROTOCOL: "http",
			AZURE_STORAGE_IS_LOCAL_EMULATOR: "true",
		});
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("fails clearly without account settings, and on a missing blob", async () => {
		const noEnv = await start("flags.json", {});
		await noEnv.collector.done;
		expect(String(noEnv.collector.error)).toMatch(/AZURE_STORAGE_ACCOUNT/);
		const missing = await start("missing.json", {
			AZURE_STORAGE_CONNECTION_STRING: connectionString,
		});
		await missing.collector.done;
		expect(missing.collector.error).toMatchObject({
			code: "SOURCE_UNAVAILABLE",
		});
	});
});
