/**
 * Fan-out from our own daemon: edge daemons syncing from an upstream daemon's sync port (`--uri grpc://…`) accept
 * what its sync service sends as it is — flag-set metadata, flag metadata, `$evaluators`, selectors — without a
 * single warning, and with `--strict-validation` too. Two real daemons on 127.0.0.1, a real flag file and watcher,
 * real gRPC streams; each edge's logger is recorded.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Logger } from "../../packages/daemon/src/logging/logger.js";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { parseSourceUri } from "../../packages/daemon/src/syncs/parse-source-uri.js";
import { waitFor } from "./daemon-harness.js";

interface LogEntry {
	readonly level: string;
	readonly fields: Record<string, unknown>;
	readonly message: string;
}

/** A Logger that keeps every entry (children included). */
function recordingLogger(entries: LogEntry[]): Logger {
	const make = (bound: Record<string, unknown>): Logger => {
		const at =
			(level: string) => (fields: Record<string, unknown>, message: string) =>
				entries.push({ level, fields: { ...bound, ...fields }, message });
		return {
			debug: at("debug"),
			info: at("info"),
			warn: at("warn"),
			error: at("error"),
			child: (fields) => make({ ...bound, ...fields }),
		};
	};
	return make({});
}

function teamA(color: string): string {
	return JSON.stringify({
		$schema: "https://flagd.dev/schema/v0/flags.json",
		metadata: { flagSetId: "team-a", version: "7", owner: "platform" },
		$evaluators: {
			isBeta: { in: ["beta", { var: "tier" }] },
		},
		flags: {
			"banner-color": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
				metadata: { description: "banner", rollout: 10, critical: false },
				targeting: {
					if: [{ $ref: "isBeta" }, "blue", null],
				},
			},
			"new-checkout": {
				state: "DISABLED",
				variants: { on: true, off: false },
				defaultVariant: "off",
			},
		},
	});
}

const TEAM_B = JSON.stringify({
	metadata: { flagSetId: "team-b" },
	flags: {
		"team-b-limit": {
			state: "ENABLED",
			variants: { low: 10, high: 100 },
			defaultVariant: "low",
		},
	},
});

async function writeAtomically(path: string, content: string): Promise<void> {
	await writeFile(`${path}.tmp`, content);
	await rename(`${path}.tmp`, path);
}

describe("edge daemons syncing from our own daemon", () => {
	let dir: string;
	let teamAPath: string;
	let upstream: RunningDaemon;
	const edges: {
		name: string;
		daemon: RunningDaemon;
		logs: LogEntry[];
		selector?: string;
	}[] = [];

	async function startEdge(
		name: string,
		strictValidation: boolean,
		selector?: string,
	): Promise<void> {
		const logs: LogEntry[] = [];
		const uri = `grpc://127.0.0.1:${upstream.ports.sync}`;
		const daemon = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				ofrepPort: 0,
				syncPort: 0,
				bindAddress: "127.0.0.1",
				strictValidation,
				sources: [
					selector === undefined
						? parseSourceUri(uri)
						: { uri, provider: "grpc", selector },
				],
			}),
			{ logger: recordingLogger(logs) },
		);
		edges.push({
			name,
			daemon,
			logs,
			...(selector === undefined ? {} : { selector }),
		});
		await daemon.ready;
	}

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "fan-out-own-"));
		teamAPath = join(dir, "team-a.json");
		const teamBPath = join(dir, "team-b.json");
		await writeFile(teamAPath, teamA("red"));
		await writeFile(teamBPath, TEAM_B);
		upstream = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				ofrepPort: 0,
				syncPort: 0,
				bindAddress: "127.0.0.1",
				strictValidation: true,
				sources: [
					parseSourceUri(`file:${teamAPath}`),
					parseSourceUri(`file:${teamBPath}`),
				],
			}),
		);
		await upstream.ready;
		await startEdge("lenient", false);
		await startEdge("strict", true);
		await startEdge(
			"strict, selector flagSetId=team-a",
			true,
			"flagSetId=team-a",
		);
	});

	afterAll(async () => {
		await Promise.all(edges.map((e) => e.daemon.close()));
		await upstream?.close();
		await rm(dir, { recursive: true, force: true });
	});

	function client(daemon: RunningDaemon) {
		return createClient(
			EvaluationServiceV1,
			createGrpcTransport({
				baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
			}),
		);
	}

	it("every edge becomes ready and serves the upstream's flags, targeting and metadata included", async () => {
		for (const edge of edges) {
			const evaluation = client(edge.daemon);
			const plain = await evaluation.resolveString({ flagKey: "banner-color" });
			expect(plain).toMatchObject({ value: "red", reason: "DEFAULT" });
			const beta = await evaluation.resolveString({
				flagKey: "banner-color",
				context: { tier: "beta" },
			});
			expect(beta).toMatchObject({ value: "blue", reason: "TARGETING_MATCH" });
			expect(beta.metadata).toMatchObject({
				flagSetId: "team-a",
				version: "7",
				description: "banner",
				rollout: 10,
				critical: false,
			});
		}
	});

	it("an edge with a selector gets only the selected flag set", async () => {
		const [lenient, , selected] = edges;
		expect(
			(
				await client(lenient?.daemon as RunningDaemon).resolveInt({
					flagKey: "team-b-limit",
				})
			).value,
		).toBe(10n);
		await expect(
			client(selected?.daemon as RunningDaemon).resolveInt({
				flagKey: "team-b-limit",
			}),
		).rejects.toThrow(/FLAG_NOT_FOUND|not found/i);
	});

	it("a change upstream arrives on every edge", async () => {
		await writeAtomically(teamAPath, teamA("blue"));
		for (const edge of edges) {
			const evaluation = client(edge.daemon);
			await waitFor(
				async () =>
					(await evaluation.resolveString({ flagKey: "banner-color" }))
						.value === "blue",
				10_000,
				`the change on the ${edge.name} edge`,
			);
		}
	});

	it("no edge logged a warning or an error", () => {
		for (const edge of edges) {
			const problems = edge.logs.filter(
				(e) => e.level === "warn" || e.level === "error",
			);
			expect({ edge: edge.name, problems }).toEqual({
				edge: edge.name,
				problems: [],
			});
			// The recorder does see the edge's logging (so an empty list means something).
			expect(edge.logs.length).toBeGreaterThan(0);
		}
	});
});
