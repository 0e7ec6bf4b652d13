/**
 * Shared pieces of the daemon integration tests: a controllable in-memory SyncSource (a test double for the sync
 * sources, which have their own tests in syncs/; here the tests need to push exact payloads at exact moments),
 * fixture flag documents, and a poll helper with a bounded timeout.
 */
import type { DaemonConfig } from "../../packages/daemon/src/config/daemon-config.js";
import {
	type RunningDaemon,
	type StartDaemonOptions,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import type {
	SyncPayload,
	SyncSource,
} from "../../packages/daemon/src/syncs/sync-source.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";

/** A SyncSource the test drives: `push` delivers a snapshot, `fail` breaks the stream before the first one. */
export class MemorySource implements SyncSource {
	readonly uri: string;
	readonly #pending: SyncPayload[] = [];
	#wake: (() => void) | undefined;
	#failure: Error | undefined;
	#ready = false;

	constructor(uri: string, initial?: unknown) {
		this.uri = uri;
		if (initial !== undefined) this.push(initial);
	}

	push(document: unknown): void {
		const content =
			typeof document === "string" ? document : JSON.stringify(document);
		this.#pending.push({ source: this.uri, content, format: "json" });
		this.#wake?.();
	}

	fail(error: Error): void {
		this.#failure = error;
		this.#wake?.();
	}

	async init(): Promise<void> {}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		const onAbort = () => this.#wake?.();
		signal.addEventListener("abort", onAbort);
		try {
			while (!signal.aborted) {
				const next = this.#pending.shift();
				if (next !== undefined) {
					this.#ready = true;
					yield next;
					continue;
				}
				if (this.#failure !== undefined) throw this.#failure;
				await new Promise<void>((resolve) => {
					this.#wake = resolve;
				});
				this.#wake = undefined;
			}
		} finally {
			signal.removeEventListener("abort", onAbort);
		}
	}

	async resync(): Promise<SyncPayload> {
		throw new Error("MemorySource has no resync");
	}

	isReady(): boolean {
		return this.#ready;
	}
}

export { waitFor } from "../support/wait-for.js";

/** The flags most tests evaluate: one of each type, a targeted one, a disabled one and a code-default one. */
export const BASIC_FLAGS = {
	flags: {
		headerColor: {
			state: "ENABLED",
			variants: { red: "#FF0000", blue: "#0000FF", green: "#00FF00" },
			defaultVariant: "red",
			targeting: {
				if: [{ ends_with: [{ var: "email" }, "@bar.com"] }, "blue", null],
			},
		},
		"bool-flag": {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "off",
		},
		"int-flag": {
			state: "ENABLED",
			variants: { ten: 10, big: 9007199254740991 },
			defaultVariant: "ten",
		},
		"float-flag": {
			state: "ENABLED",
			variants: { half: 0.5 },
			defaultVariant: "half",
		},
		"object-flag": {
			state: "ENABLED",
			variants: { obj: { a: 1, nested: { b: [true, "x"] } } },
			defaultVariant: "obj",
			metadata: { owner: "team-a" },
		},
		"disabled-flag": {
			state: "DISABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
		"code-default-flag": {
			state: "ENABLED",
			variants: { on: true, off: false },
		},
		"context-flag": {
			state: "ENABLED",
			variants: {
				internal: "INTERNAL",
				external: "EXTERNAL",
				header: "HEADER",
			},
			defaultVariant: "external",
			targeting: {
				if: [
					{ "==": [{ var: "fromHeader" }, "yes"] },
					"header",
					{ "==": [{ var: "injected" }, "set"] },
					"internal",
					null,
				],
			},
		},
		"bad-ref-flag": {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "off",
			targeting: { unknown_operator: [1] },
		},
		"missing-variant-flag": {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "off",
			targeting: { if: [true, "nonexistent", null] },
		},
	},
} as const;

/** Starts a daemon on free 127.0.0.1 ports with the given in-memory sources (in priority order). */
export async function startTestDaemon(
	sources: readonly MemorySource[],
	overrides: Partial<DaemonConfig> = {},
	options: StartDaemonOptions = {},
): Promise<RunningDaemon> {
	const byUri = new Map(sources.map((s) => [s.uri, s]));
	return startDaemon(
		loopbackDaemonConfig({
			sources: sources.map((s) => ({ uri: s.uri, provider: "file" as const })),
			...overrides,
		}),
		{
			createSource: async (config) => {
				const source = byUri.get(config.uri);
				if (source === undefined)
					throw new Error(`no test source ${config.uri}`);
				return source;
			},
			...options,
		},
	);
}
