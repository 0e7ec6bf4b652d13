import { createHash } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import {
	createServer,
	type IncomingMessage,
	type Server,
	type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
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
	type LogEntry,
	recordingLogger,
} from "../../logging/testdata/recording-logger.js";
import {
	flagDocument,
	PayloadCollector,
	waitFor,
} from "../testdata/sync-test-kit.js";
import { HttpSync, type HttpSyncOptions } from "./http-sync.js";

/** What the real node:http server answers; tests change it between polls. */
interface ServerState {
	body: string;
	contentType: string;
	etags: boolean;
	status: number;
	delayMs: number;
	requiredAuth: string | undefined;
}

let server: Server;
let baseUrl: string;
let state: ServerState;
let requests: IncomingMessage[];
let statuses: number[];
let controller: AbortController;
let entries: LogEntry[];

function handle(req: IncomingMessage, res: ServerResponse): void {
	requests.push(req);
	const answer = (
		status: number,
		body = "",
		headers: Record<string, string> = {},
	) => {
		statuses.push(status);
		res.writeHead(status, headers);
		res.end(body);
	};
	if (
		state.requiredAuth !== undefined &&
		req.headers.authorization !== state.requiredAuth
	) {
		answer(401, "bad token");
		return;
	}
	if (state.status !== 200) {
		answer(state.status, "upstream broken");
		return;
	}
	const etag = `"${createHash("sha1").update(state.body).digest("hex")}"`;
	const send = () => {
		if (state.etags && req.headers["if-none-match"] === etag) answer(304);
		else
			answer(200, state.body, {
				"content-type": state.contentType,
				...(state.etags ? { etag } : {}),
			});
	};
	if (state.delayMs > 0) {
		// A held answer ends with its connection (the client aborts or times out): no timer outlives the test.
		const timer = setTimeout(send, state.delayMs);
		res.once("close", () => clearTimeout(timer));
	} else send();
}

beforeAll(async () => {
	server = createServer(handle);
	await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise((r) => server.close(r));
});

beforeEach(() => {
	state = {
		body: flagDocument("on"),
		contentType: "application/json",
		etags: true,
		status: 200,
		delayMs: 0,
		requiredAuth: undefined,
	};
	requests = [];
	statuses = [];
	controller = new AbortController();
	entries = [];
});

afterEach(() => {
	controller.abort();
});

function start(options: Partial<HttpSyncOptions> & { path?: string } = {}) {
	const source = new HttpSync({
		uri: `${baseUrl}${options.path ?? "/flags.json"}`,
		intervalMs: 30,
		logger: recordingLogger(entries),
		...options,
	});
	return { source, collector: new PayloadCollector(source, controller.signal) };
}

const warnings = () => entries.filter((e) => e.level === "warn");

describe("HttpSync", () => {
	it("fetches with Accept, authHeader and extra headers, and emits the first snapshot", async () => {
		state.requiredAuth = "Bearer s3cret";
		const { source, collector } = start({
			authHeader: "Bearer s3cret",
			headers: { "X-Tenant": "blue" },
		});
		const first = await collector.next();
		expect(first).toEqual({
			source: `${baseUrl}/flags.json`,
			content: flagDocument("on"),
			format: "json",
		});
		expect(source.isReady()).toBe(true);
		const req = requests[0]!;
		expect(req.headers.accept).toBe("application/json, application/yaml");
		expect(req.headers["x-tenant"]).toBe("blue");
	});

	it("sends If-None-Match, treats 304 as unchanged, and emits when the content changes", async () => {
		const { collector } = start();
		await collector.next();
		await waitFor(
			() => statuses.filter((s) => s === 304).length >= 2,
			"two 304s",
		);
		expect(requests[1]?.headers["if-none-match"]).toMatch(/^"[0-9a-f]+"$/);
		expect(collector.untaken).toBe(0);
		state.body = flagDocument("off");
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("detects changes by body hash when the server sends no ETag", async () => {
		state.etags = false;
		const { collector } = start();
		await collector.next();
		await waitFor(() => requests.length >= 4, "several polls");
		expect(collector.untaken).toBe(0);
		expect(
			requests.every((r) => r.headers["if-none-match"] === undefined),
		).toBe(true);
		state.body = flagDocument("off");
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("rejects the first sync on 401 with a message naming the status", async () => {
		state.requiredAuth = "Bearer right";
		const { source, collector } = start({ authHeader: "Bearer wrong" });
		await collector.done;
		expect(collector.error).toMatchObject({ code: "SOURCE_UNAVAILABLE" });
		expect(String(collector.error)).toMatch(/HTTP 401.*authHeader/);
		expect(source.isReady()).toBe(false);
	});

	it("rejects the first sync on 500, but after that logs 500s, keeps state and recovers", async () => {
		state.status = 500;
		const failing = start();
		await failing.collector.done;
		expect(String(failing.collector.error)).toMatch(/HTTP 500/);

		state.status = 200;
		const { collector } = start();
		await collector.next();
		state.status = 500;
		await waitFor(() => warnings().length >= 2, "warnings for failing polls");
		expect(warnings()[0]?.fields).toMatchObject({
			source: `${baseUrl}/flags.json`,
		});
		expect(String(warnings()[0]?.fields.error)).toMatch(/HTTP 500/);
		state.status = 200;
		state.body = flagDocument("off");
		expect((await collector.next()).content).toBe(flagDocument("off"));
		expect(collector.ended).toBe(false);
	});

	it("times out slow responses: the first rejects, later ones are logged and retried", async () => {
		// A slow answer is one the server holds until the connection closes, and a prompt one must beat the timeout
		// on a loaded machine too: 1 s is far beyond a loopback answer, and the held one never comes.
		state.delayMs = 60_000;
		const slow = start({ timeoutMs: 1_000 });
		await slow.collector.done;
		expect(String(slow.collector.error)).toMatch(/no response within 1000 ms/);

		state.delayMs = 0;
		const { collector } = start({ timeoutMs: 1_000 });
		await collector.next();
		state.delayMs = 60_000;
		await waitFor(() => warnings().length >= 1, "a timeout warning");
		expect(String(warnings()[0]?.fields.error)).toMatch(/no response within/);
		state.delayMs = 0;
		state.body = flagDocument("off");
		expect((await collector.next()).content).toBe(flagDocument("off"));
	});

	it("reads YAML by Content-Type, and by URL extension when the type says nothing", async () => {
		state.body =
			"flags:\n  myFlag:\n    state: ENABLED\n    variants: {on: true}\n    defaultVariant: 'on'\n";
		state.contentType = "application/yaml";
		const byType = start({ path: "/flags" });
		expect((await byType.collector.next()).format).toBe("yaml");
		state.contentType = "text/plain";
		const byExtension = start({ path: "/flags.yml" });
		expect((await byExtension.collector.next()).format).toBe("yaml");
	});

	it("keeps the last good state on fault inputs and passes a 10 MB document through", async () => {
		const { collector } = start();
		await collector.next();
		for (const [i, fault] of [
			"\u0000\u00ff garbage",
			"[]",
			"42",
			'{"flags":"x"}',
		].entries()) {
			state.body = fault;
			await waitFor(() => warnings().length > i, `warning for fault #${i}`);
		}
		expect(collector.untaken).toBe(0);
		state.body = flagDocument("off", {
			big: {
				state: "ENABLED",
				variants: { a: "y".repeat(10 * 1024 * 1024) },
				defaultVariant: "a",
			},
		});
		// 10 MB per poll (download, hash, parse): a budget for that work on a loaded machine, not the default.
		expect(((await collector.next(60_000)).content as string).length).toBe(
			state.body.length,
		);
	}, 90_000);

	it("resync fetches the full state unconditionally", async () => {
		const { source, collector } = start({ intervalMs: 60_000 });
		await collector.next();
		const before = requests.length;
		const payload = await source.resync(controller.signal);
		expect(payload.content).toBe(flagDocument("on"));
		expect(requests.length).toBeGreaterThan(before);
		expect(requests.at(-1)?.headers["if-none-match"]).toBeUndefined();
	});

	it("stops polling after abort", async () => {
		// Polls are counted where fetch creates them (undici's diagnostics channel), not where the server sees them:
		// a poll sent just before the abort can reach the server after `done` resolved (the server runs in this
		// process, its read is a later turn of the event loop), and that is not a poll after the abort.
		const created: string[] = [];
		const onCreate = (message: unknown): void => {
			const { request } = message as {
				request: { origin: string; path: string };
			};
			if (request.origin === baseUrl) created.push(request.path);
		};
		diagnosticsChannel.subscribe("undici:request:create", onCreate);
		try {
			const { collector } = start();
			await collector.next();
			controller.abort();
			await collector.done;
			const count = created.length;
			expect(count).toBeGreaterThanOrEqual(1);
			await new Promise((r) => setTimeout(r, 100)); // three intervals: proving absence needs a wait
			expect(created.length).toBe(count);
		} finally {
			diagnosticsChannel.unsubscribe("undici:request:create", onCreate);
		}
	});

	it("cancels a poll in flight at abort and sends no other", async () => {
		const { collector } = start();
		await collector.next();
		state.delayMs = 60_000; // the next poll is held by the server until its connection closes
		await waitFor(() => requests.length >= 2, "the second poll");
		controller.abort();
		await collector.done; // ends without waiting for the held answer
		expect(collector.error).toBeUndefined();
		const count = requests.length;
		await new Promise((r) => setTimeout(r, 100)); // three intervals: proving absence needs a wait
		expect(requests.length).toBe(count);
	});

	it("rejects non-http URIs", () => {
		expect(() => new HttpSync({ uri: "ftp://x/y" })).toThrow(
			/http:\/\/ or https:\/\//,
		);
	});
});

describe("HttpSync redirects", () => {
	/** A second server on another port: another origin. Records the headers of every request it gets. */
	async function otherOrigin(): Promise<{
		url: string;
		seen: IncomingMessage["headers"][];
		close(): Promise<void>;
	}> {
		const seen: IncomingMessage["headers"][] = [];
		const other = createServer((req, res) => {
			seen.push(req.headers);
			if (req.url === "/hop") {
				res.writeHead(307, { location: `${baseUrl}/flags.json` });
				res.end();
				return;
			}
			res.writeHead(200, { "content-type": "application/json" });
			res.end(flagDocument("off"));
		});
		await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
		return {
			url: `http://127.0.0.1:${(other.address() as AddressInfo).port}`,
			seen,
			close: async () => {
				other.closeAllConnections();
				await new Promise((r) => other.close(r));
			},
		};
	}

	/** The shared server's handler, answering `/moved` with a redirect to `target`. */
	function redirectFrom(path: string, target: string, status = 302): void {
		server.removeAllListeners("request");
		server.on("request", (req: IncomingMessage, res: ServerResponse) => {
			if (req.url?.startsWith(path) === true) {
				requests.push(req);
				res.writeHead(status, { location: target });
				res.end();
				return;
			}
			handle(req, res);
		});
	}

	afterEach(() => {
		server.removeAllListeners("request");
		server.on("request", handle);
	});

	it("drops Authorization and custom headers on a redirect to another origin", async () => {
		const other = await otherOrigin();
		try {
			redirectFrom("/moved", `${other.url}/flags.json`);
			const { collector } = start({
				path: "/moved?token=SECRET",
				authHeader: "Bearer s3cret",
				headers: { "X-Team": "payments" },
			});
			expect((await collector.next()).content).toBe(flagDocument("off"));
			expect(requests[0]?.headers["x-team"]).toBe("payments");
			expect(requests[0]?.headers.authorization).toBe("Bearer s3cret");
			expect(other.seen).toHaveLength(1);
			expect(other.seen[0]?.["x-team"]).toBeUndefined();
			expect(other.seen[0]?.authorization).toBeUndefined();
			expect(other.seen[0]?.accept).toBe("application/json, application/yaml");
		} finally {
			await other.close();
		}
	});

	it("keeps the headers on a redirect within the origin, and again once back at it", async () => {
		const other = await otherOrigin();
		try {
			redirectFrom("/moved", `${other.url}/hop`, 301);
			state.requiredAuth = "Bearer s3cret";
			const { collector } = start({
				path: "/moved",
				authHeader: "Bearer s3cret",
				headers: { "X-Team": "payments" },
			});
			// /moved (same origin, 301) → other/hop (307, no headers) → back to /flags.json (headers again).
			expect((await collector.next()).content).toBe(flagDocument("on"));
			expect(other.seen[0]?.["x-team"]).toBeUndefined();
			const back = requests.find((r) => r.url === "/flags.json");
			expect(back?.headers["x-team"]).toBe("payments");
			expect(back?.headers.authorization).toBe("Bearer s3cret");
		} finally {
			await other.close();
		}
	});

	it("stops after too many redirects with a clear error", async () => {
		redirectFrom("/loop", "/loop?again=1");
		const { collector } = start({ path: "/loop?token=SECRET" });
		await collector.done;
		expect(String(collector.error)).toContain("more than 10 redirects");
		expect(String(collector.error)).not.toContain("SECRET");
	});

	it("never names the URL's credentials in logs or errors", async () => {
		const { collector } = start({ path: "/flags.json?token=SECRET" });
		await collector.next();
		state.status = 500;
		await waitFor(() => warnings().length > 0, "a poll failure warning");
		const logged = JSON.stringify(entries);
		expect(logged).toContain("token=[redacted]");
		expect(logged).not.toContain("SECRET");
	});
});
