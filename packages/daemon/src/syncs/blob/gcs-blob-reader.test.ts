/**
 * GCS source against a small local node:http server speaking the Storage JSON API's object metadata
 * (`GET /storage/v1/b/<bucket>/o/<object>`) and media download (`?alt=media`): no GCS emulator is available on npm
 * or in Debian. The SDK is pointed at it through STORAGE_EMULATOR_HOST, as a user would.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
	afterAll,
	beforeAll,
	beforeEach,
	describe,
	expect,
	it,
} from "@jest/globals";
import { createSyncSource } from "../create-sync-source.js";
import { parseSourceUri } from "../parse-source-uri.js";
import {
	flagDocument,
	type LocalHttpServer,
	startLocalHttpServer,
	syncTestRun,
	waitFor,
} from "../testdata/sync-test-kit.js";

const run = syncTestRun();

interface StoredObject {
	body: string;
	generation: number;
	contentType: string;
}

const objects = new Map<string, StoredObject>();
let requests: { path: string; media: boolean }[];
let server: LocalHttpServer;

let nextGeneration = 1000;

/** Like GCS, every write gets a new, never reused generation number. */
function store(
	name: string,
	body: string,
	contentType = "application/json",
): void {
	nextGeneration += 1;
	const generation = nextGeneration;
	objects.set(name, { body, generation, contentType });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
	const url = new URL(req.url ?? "/", "http://x");
	const match = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(
		url.pathname,
	);
	const media = url.searchParams.get("alt") === "media";
	requests.push({ path: url.pathname, media });
	const object =
		match?.[1] === "flag-bucket"
			? objects.get(decodeURIComponent(match[2] ?? ""))
			: undefined;
	if (object === undefined) {
		res
			.writeHead(404, { "content-type": "application/json" })
			.end(JSON.stringify({ error: { code: 404, message: "No such object" } }));
		return;
	}
	const generation = url.searchParams.get("generation");
	if (generation !== null && generation !== String(object.generation)) {
		res
			.writeHead(404, { "content-type": "application/json" })
			.end(
				JSON.stringify({ error: { code: 404, message: "No such generation" } }),
			);
		return;
	}
	if (media) {
		res
			.writeHead(200, {
				"content-type": object.contentType,
				"x-goog-generation": String(object.generation),
			})
			.end(object.body);
		return;
	}
	res.writeHead(200, { "content-type": "application/json" }).end(
		JSON.stringify({
			kind: "storage#object",
			name: decodeURIComponent(match?.[2] ?? ""),
			bucket: "flag-bucket",
			generation: String(object.generation),
			metageneration: "1",
			contentType: object.contentType,
			size: String(Buffer.byteLength(object.body)),
		}),
	);
}

beforeAll(async () => {
	server = await startLocalHttpServer(handle);
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => {
	requests = [];
});

async function start(object: string) {
	const source = await createSyncSource(
		{ ...parseSourceUri(`gs://flag-bucket/${object}`), intervalMs: 40 },
		{ logger: run.logger(), env: { STORAGE_EMULATOR_HOST: server.url } },
	);
	return run.collect(source);
}

describe("gcs blob source (local JSON API server)", () => {
	it("emits the object and re-downloads only when its generation changes", async () => {
		store("team/flags.json", flagDocument("on"));
		const { source, collector } = await start("team/flags.json");
		expect(await collector.next()).toEqual({
			source: "gs://flag-bucket/team/flags.json",
			content: flagDocument("on"),
			format: "json",
		});
		expect(source.isReady()).toBe(true);
		await waitFor(
			() => requests.filter((r) => !r.media).length >= 4,
			"several metadata polls",
		);
		expect(requests.filter((r) => r.media)).toHaveLength(1);
		store("team/flags.json", flagDocument("off"));
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("rejects the first sync for a missing object, and logs later failures", async () => {
		const missing = await start("nope.json");
		await missing.collector.done;
		expect(missing.collector.error).toMatchObject({
			code: "SOURCE_UNAVAILABLE",
		});

		store("gone.json", flagDocument("on"));
		const { collector } = await start("gone.json");
		await collector.next();
		objects.delete("gone.json");
		await waitFor(
			() => run.entries.some((e) => e.level === "warn"),
			"a warning",
		);
		expect(run.entries.find((e) => e.level === "warn")?.fields.source).toBe(
			"gs://flag-bucket/gone.json",
		);
		store("gone.json", flagDocument("off"));
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});
});
