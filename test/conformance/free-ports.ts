/**
 * Free TCP ports on 127.0.0.1, picked once per run. The launchpad needs fixed ports because a restarted daemon
 * must come back where the providers reconnect to (the testbed's flagd always uses 8013-8016).
 *
 * Ports come from below the kernel's ephemeral range when possible: during a restart's outage the port is unbound,
 * and a port from the ephemeral range could meanwhile be taken as the local port of some outgoing connection
 * (any test's client socket), which would make the restart fail with EADDRINUSE.
 */
import { readFile } from "node:fs/promises";
import * as net from "node:net";

const FALLBACK_EPHEMERAL_LOW = 32_768; // Linux default
const LOWEST_PICK = 20_000;
const ATTEMPTS = 200;

async function ephemeralLow(): Promise<number> {
	try {
		const text = await readFile(
			"/proc/sys/net/ipv4/ip_local_port_range",
			"utf8",
		);
		const low = Number(text.trim().split(/\s+/)[0]);
		return Number.isInteger(low) && low > LOWEST_PICK + 1000
			? low
			: FALLBACK_EPHEMERAL_LOW;
	} catch {
		// Not Linux (or no procfs): the Linux default is also what most other systems use as a lower bound.
		return FALLBACK_EPHEMERAL_LOW;
	}
}

function listen(server: net.Server, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const onError = () => resolve(false);
		server.once("error", onError);
		server.listen(port, "127.0.0.1", () => {
			server.off("error", onError);
			resolve(true);
		});
	});
}

/**
 * Reserves `count` distinct ports by binding them all at once, reads them and releases them. Tries random ports
 * below the ephemeral range first and falls back to port 0 (any free port).
 */
export async function pickFreePorts(count: number): Promise<number[]> {
	const servers: net.Server[] = [];
	const high = (await ephemeralLow()) - 1;
	try {
		const ports: number[] = [];
		let attempts = 0;
		while (ports.length < count) {
			const server = net.createServer();
			const candidate =
				attempts < ATTEMPTS
					? LOWEST_PICK + Math.floor(Math.random() * (high - LOWEST_PICK))
					: 0;
			attempts += 1;
			if (!(await listen(server, candidate))) continue;
			servers.push(server);
			const address = server.address();
			if (address === null || typeof address === "string") {
				throw new Error("pickFreePorts: server has no TCP address");
			}
			ports.push(address.port);
		}
		return ports;
	} finally {
		await Promise.all(
			servers.map(
				(server) =>
					new Promise<void>((resolve) => server.close(() => resolve())),
			),
		);
	}
}
