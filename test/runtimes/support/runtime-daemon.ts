/**
 * The daemon the runtime tests (Deno, Bun, workerd, edge-runtime) talk to: the real daemon (startDaemon) on
 * 127.0.0.1 with ephemeral ports, syncing one flag file the test can rewrite.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
	type RunningDaemon,
	startDaemon,
} from "../../../packages/daemon/src/runtime/start-daemon.js";
import { BOOL_FLAG, OBJECT_FLAG } from "../../support/flag-fixtures.js";
import { loopbackDaemonConfig } from "../../support/loopback-daemon-config.js";

/** A flag of every type, static (no targeting) unless named `targeted-*`; `color` is the one tests change. */
export function runtimeFlags(color = "red"): object {
	return {
		flags: {
			"bool-flag": BOOL_FLAG,
			"string-flag": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
			},
			"int-flag": {
				state: "ENABLED",
				variants: { one: 1, two: 2 },
				defaultVariant: "two",
			},
			"float-flag": {
				state: "ENABLED",
				variants: { half: 0.5, tenth: 0.1 },
				defaultVariant: "half",
			},
			"object-flag": OBJECT_FLAG,
			greeting: {
				state: "ENABLED",
				variants: { hello: "hello from flagd", hi: "hi" },
				defaultVariant: "hello",
			},
			"targeted-flag": {
				state: "ENABLED",
				variants: { internal: "INTERNAL", external: "EXTERNAL" },
				defaultVariant: "external",
				targeting: {
					if: [
						{ ends_with: [{ var: "email" }, "@example.com"] },
						"internal",
						{ fractional: [{ var: "targetingKey" }, ["external", 1]] },
					],
				},
			},
		},
	};
}

/** A running daemon with its flag file. */
export interface RuntimeDaemon {
	readonly daemon: RunningDaemon;
	/** Evaluation port (rpc resolver, Connect over HTTP/1.1 or h2c). */
	readonly evaluationPort: number;
	/** Sync port (in-process resolver; gRPC and Connect). */
	readonly syncPort: number;
	readonly flagFile: string;
	/** Rewrites the flag file (the daemon's file watcher picks it up). */
	writeFlags(document: object): void;
	close(): Promise<void>;
}

/** Starts the daemon on 127.0.0.1 (ports chosen by the OS) syncing a fresh flag file; resolves once ready. */
export async function startRuntimeDaemon(
	document: object = runtimeFlags(),
): Promise<RuntimeDaemon> {
	const dir = mkdtempSync(path.join(tmpdir(), "flagd-runtime-"));
	const flagFile = path.join(dir, "flags.json");
	const writeFlags = (doc: object) =>
		writeFileSync(flagFile, JSON.stringify(doc));
	writeFlags(document);
	const daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [{ uri: flagFile, provider: "file" }],
		}),
	);
	try {
		await daemon.ready;
	} catch (error: unknown) {
		await daemon.close();
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	const { evaluation: port, sync } = daemon.ports;
	if (port === undefined || sync === undefined)
		throw new Error("daemon did not bind TCP ports");
	return {
		daemon,
		evaluationPort: port,
		syncPort: sync,
		flagFile,
		writeFlags,
		close: async () => {
			await daemon.close();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
