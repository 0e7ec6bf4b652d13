/**
 * A `$ref` bomb (1.5 KB of `$evaluators`, each referencing the next one twice: 2^30 nodes if inlined) through a
 * running daemon with a real file source: refused with one clear log line in bounded time, the last good flags
 * kept and served, the daemon alive for the next good document; and a daemon started on the bomb stays up, not
 * ready, instead of running out of memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createLogger } from "../../packages/daemon/src/logging/create-logger.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { refBombDocument } from "../../packages/evaluator/src/testdata/ref-bomb-document.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import { waitFor } from "./daemon-harness.js";

function flags(variant: string): string {
	return JSON.stringify({
		flags: {
			color: {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: variant,
			},
		},
	});
}

let dir: string;

beforeAll(() => {
	dir = mkdtempSync(path.join(tmpdir(), "flagd-ref-bomb-"));
});

afterAll(() => {
	rmSync(dir, { recursive: true, force: true });
});

async function start(
	file: string,
): Promise<{ daemon: RunningDaemon; lines: string[] }> {
	const lines: string[] = [];
	const logger = createLogger({
		format: "json",
		sink: { write: (chunk: string) => void lines.push(chunk) },
	});
	const daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [{ uri: file, provider: "file" }],
		}),
		{ logger },
	);
	return { daemon, lines };
}

describe("a $ref bomb from a file source", () => {
	it("is refused in bounded time and the last good flags are kept", async () => {
		const file = path.join(dir, "flags.json");
		writeFileSync(file, flags("red"));
		const { daemon, lines } = await start(file);
		try {
			await daemon.ready;
			const client = createClient(
				EvaluationServiceV2,
				createConnectTransport({
					baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
					httpVersion: "1.1",
				}),
			);
			const bomb = refBombDocument(30);
			expect(bomb.length).toBeLessThan(2_000);
			const started = Date.now();
			writeFileSync(file, bomb);
			await waitFor(
				() =>
					lines.some(
						(l) =>
							l.includes("EVALUATOR_REF_EXPANSION") ||
							l.includes("more than 100000 JSON nodes"),
					),
				20_000,
				"the rejection log line",
			);
			// Inlining 2^30 nodes would take minutes and exhaust the heap; the budget stops it in well under a second.
			expect(Date.now() - started).toBeLessThan(20_000);
			const rejection = lines.find((l) => l.includes("more than 100000"));
			expect(JSON.parse(rejection as string)).toMatchObject({
				level: "warn",
				msg: expect.stringContaining("keeping its last good flags"),
			});
			expect((await client.resolveString({ flagKey: "color" })).value).toBe(
				"red",
			);
			writeFileSync(file, flags("blue"));
			await waitFor(
				async () =>
					(await client.resolveString({ flagKey: "color" })).value === "blue",
				20_000,
				"the next good document",
			);
		} finally {
			await daemon.close();
		}
	});

	it("at startup stops the daemon with one clear error (exit mode), in bounded time and memory", async () => {
		const file = path.join(dir, "bomb-at-start.json");
		writeFileSync(file, refBombDocument(30));
		const started = Date.now();
		const { daemon } = await start(file);
		try {
			// An unusable first document stops the daemon in the default `exit` mode, as malformed JSON does.
			await expect(daemon.ready).rejects.toMatchObject({
				code: "SOURCE_PAYLOAD_INVALID",
				message: expect.stringContaining("more than 100000 JSON nodes"),
			});
			expect(Date.now() - started).toBeLessThan(20_000);
		} finally {
			await daemon.close();
		}
	});
});
