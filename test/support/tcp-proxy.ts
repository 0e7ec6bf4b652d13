/**
 * A small fault-injection TCP proxy for tests (no toxiproxy/envoy on this machine). It listens on 127.0.0.1 (or a
 * unix socket) and forwards every connection to a target; faults apply to the connections through it:
 *
 * - `cut()`: close every open connection cleanly (FIN both ways), like a proxy or server going away.
 * - `reset()`: abort every open connection with a TCP RST.
 * - `stall()` / `resume()`: stop forwarding bytes (connections stay open, data is held back), then deliver.
 * - `slow(ms)`: delay every chunk by `ms` in both directions; `slow(0)` turns it off.
 * - `block()` / `unblock()`: accept and immediately destroy new connections (old ones are untouched), so a
 *   client sees the daemon as unreachable until unblocked. `cut(); block()` is a full outage.
 *
 * Every socket and timer it creates is released by `close()`.
 */
import * as net from "node:net";

/** Where the proxy forwards to. */
export type ProxyTarget = { host: string; port: number } | { path: string };

/** Options of {@link startTcpProxy}. */
export interface TcpProxyOptions {
	target: ProxyTarget;
	/** Listen on this unix socket instead of 127.0.0.1:0. */
	listenPath?: string;
	/** Listen on this port (e.g. to keep a port across restarts). @default 0 */
	listenPort?: number;
}

/** A running proxy. */
export interface TcpProxy {
	/** Listening port (0 for a unix socket). */
	readonly port: number;
	/** Connections currently open through the proxy. */
	readonly connectionCount: number;
	/** Connections accepted since start (blocked ones included). */
	readonly acceptedCount: number;
	cut(): void;
	reset(): void;
	stall(): void;
	resume(): void;
	slow(delayMs: number): void;
	block(): void;
	unblock(): void;
	close(): Promise<void>;
}

interface Pair {
	readonly client: net.Socket;
	readonly upstream: net.Socket;
}

/** Starts a proxy to `target`. */
export async function startTcpProxy(
	options: TcpProxyOptions,
): Promise<TcpProxy> {
	const pairs = new Set<Pair>();
	const timers = new Set<ReturnType<typeof setTimeout>>();
	let stalled = false;
	let delayMs = 0;
	let blocked = false;
	let accepted = 0;
	const held: Array<() => void> = [];

	const forward = (from: net.Socket, to: net.Socket): void => {
		from.on("data", (chunk: Buffer) => {
			const deliver = (): void => {
				if (!to.destroyed) to.write(chunk);
			};
			const send = (): void => {
				if (stalled) held.push(deliver);
				else deliver();
			};
			if (delayMs > 0) {
				const t = setTimeout(() => {
					timers.delete(t);
					send();
				}, delayMs);
				timers.add(t);
			} else {
				send();
			}
		});
		from.on("end", () => {
			if (!to.destroyed) to.end();
		});
	};

	const server = net.createServer((client) => {
		accepted += 1;
		if (blocked) {
			client.destroy();
			return;
		}
		const upstream =
			"path" in options.target
				? net.connect(options.target.path)
				: net.connect(options.target);
		const pair: Pair = { client, upstream };
		pairs.add(pair);
		const drop = (): void => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		client.on("error", drop);
		upstream.on("error", drop);
		client.on("close", drop);
		upstream.on("close", drop);
		forward(client, upstream);
		forward(upstream, client);
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		if (options.listenPath) server.listen(options.listenPath, resolve);
		else server.listen(options.listenPort ?? 0, "127.0.0.1", resolve);
	});
	const address = server.address();
	const port =
		typeof address === "object" && address !== null ? address.port : 0;

	return {
		port,
		get connectionCount() {
			return pairs.size;
		},
		get acceptedCount() {
			return accepted;
		},
		cut() {
			for (const p of [...pairs]) {
				p.client.end();
				p.upstream.end();
				// A peer that ignores FIN must not keep the pair alive.
				const t = setTimeout(() => {
					timers.delete(t);
					p.client.destroy();
					p.upstream.destroy();
				}, 200);
				timers.add(t);
			}
		},
		reset() {
			for (const p of [...pairs]) {
				p.client.resetAndDestroy();
				p.upstream.resetAndDestroy();
				pairs.delete(p);
			}
		},
		stall() {
			stalled = true;
		},
		resume() {
			stalled = false;
			for (const deliver of held.splice(0)) deliver();
		},
		slow(ms) {
			delayMs = ms;
		},
		block() {
			blocked = true;
		},
		unblock() {
			blocked = false;
		},
		async close() {
			blocked = true;
			held.length = 0;
			for (const t of timers) clearTimeout(t);
			timers.clear();
			for (const p of [...pairs]) {
				p.client.destroy();
				p.upstream.destroy();
			}
			pairs.clear();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
