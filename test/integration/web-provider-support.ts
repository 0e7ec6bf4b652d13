/**
 * Helpers of the web-provider integration tests: an OpenFeature client whose events are recorded, a logger that
 * keeps what the provider logs, and a free-then-closed port (a daemon that is down).
 */

import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import {
	type Client,
	type Logger,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/web-sdk";

export interface RecordedEvent {
	readonly type: string;
	readonly flagsChanged?: string[] | undefined;
	readonly message?: string | undefined;
}

/**
 * Records every provider event a client sees from now on, in order. The SDK replays the current status to a
 * handler added in that status (spec 5.3.3); that replay happens during registration and is left out.
 */
export function recordEvents(client: Client): RecordedEvent[] {
	const events: RecordedEvent[] = [];
	for (const type of Object.values(ProviderEvents)) {
		client.addHandler(type, (details) => {
			events.push({
				type,
				flagsChanged: (details as { flagsChanged?: string[] } | undefined)
					?.flagsChanged,
				message: details?.message,
			});
		});
	}
	events.length = 0;
	return events;
}

/** A logger that keeps every line (the provider must log connection problems, never swallow them). */
export function memoryLogger(): Logger & { lines: string[] } {
	const lines: string[] = [];
	const keep =
		(level: string) =>
		(...args: unknown[]): void => {
			lines.push(`${level} ${args.map(String).join(" ")}`);
		};
	return {
		lines,
		error: keep("error"),
		warn: keep("warn"),
		info: keep("info"),
		debug: keep("debug"),
	};
}

/** A port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** Removes every provider and context from the global web SDK between tests. */
export async function resetOpenFeature(): Promise<void> {
	await OpenFeature.clearProviders();
	await OpenFeature.clearContexts();
	OpenFeature.clearHandlers();
}
