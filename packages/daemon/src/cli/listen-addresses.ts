/**
 * Human-usable addresses of the running services, for the "flagd listening" log line and `npm start`'s hints.
 * A wildcard bind address is shown as `localhost`, which is what a user on the same machine types.
 */
import type { DaemonConfig } from "../config/daemon-config.js";

export interface ListenAddresses {
	readonly evaluation: string;
	readonly management: string;
	readonly sync: string;
	readonly ofrep: string;
}

/** The ports startDaemon bound; `undefined` where a unix socket is used instead. */
export interface BoundPorts {
	readonly evaluation: number | undefined;
	readonly management: number;
	readonly sync: number | undefined;
	readonly ofrep: number;
}

function host(bindAddress: string): string {
	if (bindAddress === "0.0.0.0" || bindAddress === "::" || bindAddress === "")
		return "localhost";
	return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}

export function listenAddresses(
	config: DaemonConfig,
	ports: BoundPorts,
): ListenAddresses {
	const h = host(config.bindAddress);
	const scheme = config.tls === undefined ? "http" : "https";
	return {
		evaluation:
			config.socketPath === undefined
				? `${scheme}://${h}:${ports.evaluation}`
				: `unix:${config.socketPath}`,
		management: `${scheme}://${h}:${ports.management}`,
		sync:
			config.syncSocketPath === undefined
				? `${scheme}://${h}:${ports.sync}`
				: `unix:${config.syncSocketPath}`,
		ofrep: `${scheme}://${h}:${ports.ofrep}`,
	};
}
