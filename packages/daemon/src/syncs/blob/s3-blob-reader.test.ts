/** S3 source against s3rver, a real S3-compatible server, on 127.0.0.1 (created through the factory, as the daemon does). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import S3rver from "s3rver";
import { createSyncSource } from "../create-sync-source.js";
import { parseBlobUri } from "../internal/blob-uri.js";
import { parseSourceUri } from "../parse-source-uri.js";
import {
	flagDocument,
	syncTestRun,
	waitFor,
} from "../testdata/sync-test-kit.js";
import { s3ClientSettings } from "./s3-blob-reader.js";

const run = syncTestRun();

const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
let server: S3rver;
let dir: string;
let endpoint: string;
let client: S3Client;

async function put(
	key: string,
	body: string,
	contentType = "application/json",
): Promise<void> {
	await client.send(
		new PutObjectCommand({
			Bucket: "flags",
			Key: key,
			Body: body,
			ContentType: contentType,
		}),
	);
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "s3rver-"));
	server = new S3rver({
		address: "127.0.0.1",
		port: 0,
		silent: true,
		directory: dir,
		configureBuckets: [{ name: "flags", configs: [] }],
	});
	const { port } = (await server.run()) as { port: number };
	endpoint = `http://127.0.0.1:${port}`;
	client = new S3Client({
		endpoint,
		region: "us-east-1",
		forcePathStyle: true,
		credentials: CREDENTIALS,
	});
});

afterAll(async () => {
	client.destroy();
	await server.close();
	await rm(dir, { recursive: true, force: true });
});

async function start(key: string) {
	const uri = `s3://flags/${key}?endpoint=${encodeURIComponent(endpoint)}&use_path_style=true&region=us-east-1`;
	// s3rver now and then leaves a GET unanswered (seen when a PUT of the same key races it); a 1 s read timeout
	// lets the next poll retry it well inside the tests' 5 s waits, as the 10 s default would not.
	const config = { ...parseSourceUri(uri), intervalMs: 40, timeoutMs: 1000 };
	const source = await createSyncSource(config, {
		logger: run.logger(),
		env: {
			AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
			AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
		},
	});
	return { uri, ...run.collect(source) };
}

describe("s3 blob source (s3rver)", () => {
	it("uses the full URI incl. query as source id and emits the object", async () => {
		await put("app/flags.json", flagDocument("on"));
		const { uri, source, collector } = await start("app/flags.json");
		expect(source.uri).toBe(uri);
		expect(await collector.next()).toEqual({
			source: uri,
			content: flagDocument("on"),
			format: "json",
		});
		expect(source.isReady()).toBe(true);
	});

	it("emits only when the object changes (ETag), and keeps the last good state on bad content", async () => {
		await put("change.json", flagDocument("on"));
		const { collector } = await start("change.json");
		await collector.next();
		await put("change.json", "{ truncated");
		await waitFor(
			() => run.entries.some((e) => e.level === "warn"),
			"a warning for bad content",
		);
		expect(collector.untaken).toBe(0);
		await put("change.json", flagDocument("off"));
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("reads YAML by object extension", async () => {
		await put(
			"flags.yaml",
			"flags:\n  f:\n    state: ENABLED\n    variants: {a: 1}\n    defaultVariant: a\n",
			"binary/octet-stream",
		);
		const { collector } = await start("flags.yaml");
		expect((await collector.next()).format).toBe("yaml");
	});

	it("rejects the first sync for a missing object", async () => {
		const { collector } = await start("missing.json");
		await collector.done;
		expect(collector.error).toMatchObject({ code: "SOURCE_UNAVAILABLE" });
	});

	it("maps query options onto the client and rejects unknown ones", () => {
		expect(
			s3ClientSettings(
				parseBlobUri(
					"s3://b/k?region=eu-west-1&use_path_style=true&endpoint=minio:9000&disable_https=true",
				),
				{},
			),
		).toEqual({
			region: "eu-west-1",
			forcePathStyle: true,
			endpoint: "http://minio:9000",
		});
		expect(() =>
			s3ClientSettings(parseBlobUri("s3://b/k?regoin=x"), {}),
		).toThrow(/unknown query parameter\(s\) regoin/);
	});
});
