import { readFileSync } from "node:fs";
import * as net from "node:net";
import { describe, expect, it } from "@jest/globals";
import { pickFreePorts } from "./free-ports.js";

function ephemeralLow(): number {
	try {
		return Number(
			readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
				.trim()
				.split(/\s+/)[0],
		);
	} catch {
		return 32_768;
	}
}

describe("pickFreePorts", () => {
	it("returns distinct ports below the ephemeral range that can be bound again", async () => {
		const ports = await pickFreePorts(4);
		expect(new Set(ports).size).toBe(4);
		for (const port of ports) {
			expect(port).toBeGreaterThanOrEqual(20_000);
			expect(port).toBeLessThan(ephemeralLow());
			const server = net.createServer();
			await new Promise<void>((resolve, reject) => {
				server.once("error", reject);
				server.listen(port, "127.0.0.1", () => resolve());
			});
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	});
});
