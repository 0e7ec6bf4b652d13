import { describe, expect, it } from "@jest/globals";
import type { DaemonConfig } from "../config/daemon-config.js";
import { DEFAULTS } from "../config/defaults.js";
import { listenAddresses } from "./listen-addresses.js";

const base: DaemonConfig = {
	...DEFAULTS,
	sources: [],
	corsOrigins: [],
	staticContext: {},
	headerContext: {},
};
const ports = { evaluation: 1, management: 2, sync: 3, ofrep: 4 };

describe("listenAddresses", () => {
	it("shows a wildcard bind address as localhost", () => {
		expect(listenAddresses(base, ports)).toEqual({
			evaluation: "http://localhost:1",
			management: "http://localhost:2",
			sync: "http://localhost:3",
			ofrep: "http://localhost:4",
		});
		expect(listenAddresses({ ...base, bindAddress: "::" }, ports).ofrep).toBe(
			"http://localhost:4",
		);
	});

	it("brackets IPv6 addresses and keeps other hosts", () => {
		expect(
			listenAddresses({ ...base, bindAddress: "::1" }, ports).management,
		).toBe("http://[::1]:2");
		expect(
			listenAddresses({ ...base, bindAddress: "127.0.0.1" }, ports).management,
		).toBe("http://127.0.0.1:2");
	});

	it("uses https for every TCP service with TLS and unix: for sockets", () => {
		const config = {
			...base,
			tls: { certPath: "c", keyPath: "k" },
			socketPath: "/run/flagd.sock",
		};
		expect(
			listenAddresses(config, { ...ports, evaluation: undefined }),
		).toEqual({
			evaluation: "unix:/run/flagd.sock",
			management: "https://localhost:2",
			sync: "https://localhost:3",
			ofrep: "https://localhost:4",
		});
	});
});
