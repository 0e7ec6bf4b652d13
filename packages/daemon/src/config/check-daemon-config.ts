/**
 * Checks that span several options (each option's own value was checked when it was read): the OTLP exporter needs a
 * collector, client certificates need TLS, and no two services may share a port or socket file.
 */
import { isIP } from "node:net";
import type { DaemonConfig } from "./daemon-config.js";
import type { OptionReader } from "./option-reader.js";

// A DNS host name (labels of letters, digits and hyphens), e.g. `localhost`.
const HOSTNAME =
	/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function checkPorts(config: DaemonConfig, reader: OptionReader): void {
	const ports: Array<[string, number]> = [];
	if (config.socketPath === undefined) ports.push(["port", config.port]);
	ports.push(["management-port", config.managementPort]);
	if (config.syncSocketPath === undefined)
		ports.push(["sync-port", config.syncPort]);
	ports.push(["ofrep-port", config.ofrepPort]);
	const owner = new Map<number, string>();
	for (const [name, port] of ports) {
		// Port 0 asks the OS for a free port, so several services may use it.
		const first = owner.get(port);
		if (port !== 0 && first !== undefined) {
			reader.report(
				`--${name} and --${first} both use port ${port}; each service needs its own port`,
			);
		}
		owner.set(port, first ?? name);
	}
}

export function checkDaemonConfig(
	config: DaemonConfig,
	reader: OptionReader,
): void {
	checkPorts(config, reader);
	if (
		config.metricsExporter === "otel" &&
		config.otelCollectorUri === undefined
	) {
		reader.report(
			`${reader.origin("metrics-exporter")}: --metrics-exporter otel needs --otel-collector-uri`,
		);
	}
	if (isIP(config.bindAddress) === 0 && !HOSTNAME.test(config.bindAddress)) {
		reader.report(
			`${reader.origin("bind-address")}: --bind-address must be an IP address or a host name`,
		);
	}
	if (config.syncClientCaPath !== undefined && config.tls === undefined) {
		reader.report(
			`${reader.origin("sync-client-ca-path")}: --sync-client-ca-path needs --server-cert-path and --server-key-path (client certificates need TLS)`,
		);
	}
	if (
		config.socketPath !== undefined &&
		config.socketPath === config.syncSocketPath
	) {
		reader.report(
			"--socket-path and --sync-socket-path must be different files",
		);
	}
}
