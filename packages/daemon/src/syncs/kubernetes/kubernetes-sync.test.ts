/**
 * No Kubernetes cluster can run on this machine, so these tests run the real @kubernetes/client-node against a
 * local node:http server that speaks the API server's list/watch protocol for the FeatureFlag CRD (JSON list,
 * then newline-delimited watch events on `?watch=true`). The kubeconfig points at it over http://, which
 * client-node only allows with `insecure-skip-tls-verify: true`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	afterAll,
	afterEach,
	beforeAll,
	beforeEach,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	type LocalHttpServer,
	startLocalHttpServer,
	syncTestRun,
	waitFor,
} from "../testdata/sync-test-kit.js";
import { KubernetesSync } from "./kubernetes-sync.js";

const run = syncTestRun();

const PATH =
	"/apis/core.openfeature.dev/v1beta1/namespaces/flags-ns/featureflags";

function flagSpec(variant: "on" | "off") {
	return {
		flags: {
			myFlag: {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: variant,
			},
		},
	};
}

/** The fake API server's state: the resource, its resourceVersion, and the open watch responses. */
class FakeApiServer {
	resource: Record<string, unknown> | undefined;
	resourceVersion = 1;
	lists = 0;
	watches: { res: ServerResponse; query: URLSearchParams }[] = [];
	authorizations: (string | undefined)[] = [];
	private server: LocalHttpServer | undefined;
	port = 0;

	setSpec(variant: "on" | "off"): Record<string, unknown> {
		this.resourceVersion += 1;
		this.resource = {
			apiVersion: "core.openfeature.dev/v1beta1",
			kind: "FeatureFlag",
			metadata: {
				name: "my-flags",
				namespace: "flags-ns",
				resourceVersion: String(this.resourceVersion),
			},
			spec: { flagSpec: flagSpec(variant) },
		};
		return this.resource;
	}

	/** Sends one watch event on the latest open watch. */
	send(type: string, object: unknown): void {
		const watch = this.watches.at(-1);
		if (watch === undefined) throw new Error("no open watch");
		watch.res.write(`${JSON.stringify({ type, object })}\n`);
	}

	/** Ends every open watch, as the API server does when timeoutSeconds passes. */
	expireWatches(): void {
		for (const { res } of this.watches.splice(0)) res.end();
	}

	async start(): Promise<void> {
		this.server = await startLocalHttpServer((req, res) =>
			this.handle(req, res),
		);
		this.port = this.server.port;
	}

	async stop(): Promise<void> {
		this.expireWatches();
		await this.server?.close();
	}

	private handle(req: IncomingMessage, res: ServerResponse): void {
		const url = new URL(req.url ?? "/", "http://x");
		this.authorizations.push(req.headers.authorization);
		if (
			url.pathname !== PATH ||
			url.searchParams.get("fieldSelector") !== "metadata.name=my-flags"
		) {
			res
				.writeHead(404, { "content-type": "application/json" })
				.end('{"kind":"Status","code":404}');
			return;
		}
		if (url.searchParams.get("watch") === "true") {
			res.writeHead(200, {
				"content-type": "application/json",
				"transfer-encoding": "chunked",
			});
			res.flushHeaders();
			this.watches.push({ res, query: url.searchParams });
			return;
		}
		this.lists += 1;
		res.writeHead(200, { "content-type": "application/json" }).end(
			JSON.stringify({
				apiVersion: "core.openfeature.dev/v1beta1",
				kind: "FeatureFlagList",
				metadata: { resourceVersion: String(this.resourceVersion) },
				items: this.resource === undefined ? [] : [this.resource],
			}),
		);
	}
}

let api: FakeApiServer;
let dir: string;
let kubeconfigPath: string;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "k8s-sync-"));
});

afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
	api = new FakeApiServer();
	api.setSpec("on");
	await api.start();
	kubeconfigPath = join(dir, `kubeconfig-${api.port}.yaml`);
	await writeFile(
		kubeconfigPath,
		[
			"apiVersion: v1",
			"kind: Config",
			"clusters:",
			"- name: fake",
			"  cluster:",
			`    server: http://127.0.0.1:${api.port}`,
			"    insecure-skip-tls-verify: true",
			"users:",
			"- name: flagd",
			"  user:",
			"    token: test-token",
			"contexts:",
			"- name: fake",
			"  context: {cluster: fake, user: flagd}",
			"current-context: fake",
			"",
		].join("\n"),
	);
});

afterEach(async () => {
	await api.stop();
});

function start() {
	const source = new KubernetesSync({
		uri: "flags-ns/my-flags",
		kubeconfigPath,
		backoff: { initialDelayMs: 20, maxDelayMs: 100 },
		logger: run.logger(),
	});
	return run.collect(source);
}

describe("KubernetesSync", () => {
	it("lists the FeatureFlag and emits spec.flagSpec as the flagd document, with the bearer token", async () => {
		const { source, collector } = start();
		expect(await collector.next()).toEqual({
			source: "flags-ns/my-flags",
			content: JSON.stringify(flagSpec("on")),
			format: "json",
		});
		expect(source.isReady()).toBe(true);
		expect(api.authorizations[0]).toBe("Bearer test-token");
		await waitFor(() => api.watches.length === 1, "the watch to start");
		expect(api.watches[0]?.query.get("resourceVersion")).toBe(
			String(api.resourceVersion),
		);
	});

	it("emits on MODIFIED watch events, ignores unchanged ones and bookmarks", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(() => api.watches.length === 1, "the watch to start");
		api.send("BOOKMARK", { metadata: { resourceVersion: "99" } });
		api.send("MODIFIED", api.setSpec("on"));
		api.send("MODIFIED", api.setSpec("off"));
		expect((await collector.next()).content).toBe(
			JSON.stringify(flagSpec("off")),
		);
		expect(collector.untaken).toBe(0);
	});

	it("re-lists and re-watches when the watch expires, picking up changes made in between", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(() => api.watches.length === 1, "the watch to start");
		api.setSpec("off");
		api.expireWatches();
		expect((await collector.next()).content).toBe(
			JSON.stringify(flagSpec("off")),
		);
		expect(api.lists).toBe(2);
		await waitFor(() => api.watches.length === 1, "the watch to restart");
		api.send("MODIFIED", api.setSpec("on"));
		expect((await collector.next()).content).toBe(
			JSON.stringify(flagSpec("on")),
		);
	});

	it("re-lists after a 410 Gone ERROR event", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(() => api.watches.length === 1, "the watch to start");
		api.setSpec("off");
		api.send("ERROR", { kind: "Status", code: 410, reason: "Expired" });
		expect((await collector.next()).content).toBe(
			JSON.stringify(flagSpec("off")),
		);
		expect(api.lists).toBe(2);
	});

	it("keeps the last good flags when the resource is deleted or invalid, and emits when it is recreated", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(() => api.watches.length === 1, "the watch to start");
		api.send("DELETED", api.resource);
		api.send("MODIFIED", {
			metadata: { name: "my-flags" },
			spec: { flagSpec: { flags: [] } },
		});
		await waitFor(
			() => run.entries.filter((e) => e.level === "warn").length === 2,
			"two warnings",
		);
		expect(
			run.entries.filter((e) => e.level === "warn").map((e) => e.fields.source),
		).toEqual(["flags-ns/my-flags", "flags-ns/my-flags"]);
		api.send("ADDED", api.setSpec("on"));
		expect((await collector.next()).content).toBe(
			JSON.stringify(flagSpec("on")),
		);
	});

	it("rejects the first sync when the FeatureFlag does not exist", async () => {
		api.resource = undefined;
		const { collector } = start();
		await collector.done;
		expect(collector.error).toMatchObject({ code: "SOURCE_UNAVAILABLE" });
		expect(String(collector.error)).toMatch(/flags-ns\/my-flags not found/);
	});

	it("retries with backoff while the API server is unreachable", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(() => api.watches.length === 1, "the watch to start");
		const port = api.port;
		await api.stop();
		await waitFor(
			() => run.entries.some((e) => e.level === "warn"),
			"a retry warning",
		);
		expect(collector.ended).toBe(false);
		expect(port).toBeGreaterThan(0);
	});

	it("resync lists the current state", async () => {
		const { source, collector } = start();
		await collector.next();
		api.setSpec("off");
		expect((await source.resync(run.signal)).content).toBe(
			JSON.stringify(flagSpec("off")),
		);
	});

	it("rejects a malformed uri", () => {
		expect(() => new KubernetesSync({ uri: "just-a-name" })).toThrow(
			/<namespace>\/<name>/,
		);
	});
});
