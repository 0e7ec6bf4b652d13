import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { silentLogger } from "../logging/logger.js";
import { BlobSync } from "./blob/blob-sync.js";
import { createSyncSource } from "./create-sync-source.js";
import { FileSync } from "./file/file-sync.js";
import { GrpcSync } from "./grpc/grpc-sync.js";
import { HttpSync } from "./http/http-sync.js";
import { KubernetesSync } from "./kubernetes/kubernetes-sync.js";
import { parseSourceUri } from "./parse-source-uri.js";
import { flagDocument } from "./testdata/sync-test-kit.js";

const deps = { logger: silentLogger, env: {} };

describe("createSyncSource", () => {
	it.each([
		["file:flags.json", FileSync],
		["https://x/f.json", HttpSync],
		["grpc://h:8015", GrpcSync],
		["core.openfeature.dev/ns/name", KubernetesSync],
		["gs://b/o.json", BlobSync],
		["azblob://c/o.json", BlobSync],
		["s3://b/o.json", BlobSync],
	])(
		"builds the right source for %s, keeping the configured id",
		async (uri, type) => {
			const config = parseSourceUri(uri);
			const source = await createSyncSource(config, deps);
			expect(source).toBeInstanceOf(type);
			expect(source.uri).toBe(config.uri);
			expect(source.isReady()).toBe(false);
		},
	);

	it("accepts fsnotify and fileinfo as file providers, and runs a file source end to end", async () => {
		const dir = await mkdtemp(join(tmpdir(), "create-sync-"));
		try {
			const path = join(dir, "flags.json");
			await writeFile(path, flagDocument("on"));
			const controller = new AbortController();
			for (const provider of ["fsnotify", "fileinfo"] as const) {
				const source = await createSyncSource({ uri: path, provider }, deps);
				await source.init(controller.signal);
				const first = await source
					.sync(controller.signal)
					[Symbol.asyncIterator]()
					.next();
				expect(first.value).toEqual({
					source: path,
					content: flagDocument("on"),
					format: "json",
				});
			}
			controller.abort();
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});

	it("rejects a blob URI whose scheme does not match the provider", async () => {
		await expect(
			createSyncSource({ uri: "gs://b/o.json", provider: "s3" }, deps),
		).rejects.toMatchObject({
			code: "SOURCE_URI_INVALID",
		});
	});

	it("rejects an unknown provider", async () => {
		await expect(
			createSyncSource({ uri: "x", provider: "ftp" as "file" }, deps),
		).rejects.toMatchObject({
			code: "CONFIG_INVALID",
		});
	});

	it("reports a missing in-cluster config for kubernetes clearly at init", async () => {
		const source = await createSyncSource(
			parseSourceUri("core.openfeature.dev/ns/name"),
			deps,
		);
		await expect(source.init(new AbortController().signal)).rejects.toThrow(
			/cannot load cluster config/,
		);
	});
});
