/**
 * Where a gRPC sync source connects: flagd accepts `host:port`, `grpc://host:port`, `grpcs://host:port` (TLS) and
 * gRPC name-resolver targets. This turns them into a base URL (and a unix socket path for `uds:`/`unix:`).
 * `envoy://` and `xds://` need grpc-go's resolvers, which connect-node does not have: they are rejected clearly.
 */
import { DaemonError } from "../../errors.js";

export interface GrpcTarget {
	/** `http://host:port` or `https://host:port`; `http://localhost` for unix sockets. */
	readonly baseUrl: string;
	readonly tls: boolean;
	/** Unix domain socket to dial instead of TCP. */
	readonly socketPath: string | undefined;
}

function invalid(uri: string, why: string): DaemonError {
	return new DaemonError("SOURCE_URI_INVALID", `grpc source "${uri}": ${why}`);
}

export function parseGrpcTarget(uri: string, tlsOption: boolean): GrpcTarget {
	let rest = uri;
	let tls = tlsOption;
	if (rest.startsWith("grpcs://")) {
		tls = true;
		rest = rest.slice("grpcs://".length);
	} else if (rest.startsWith("grpc://")) {
		rest = rest.slice("grpc://".length);
	} else if (/^(uds|unix):/.test(rest)) {
		const socketPath = rest.replace(/^(uds|unix):(\/\/)?/, "");
		if (socketPath === "") throw invalid(uri, "missing socket path");
		return { baseUrl: "http://localhost", tls: false, socketPath };
	} else if (rest.startsWith("dns:")) {
		// dns:host:port, dns:///host:port, dns://authority/host:port: the resolver authority is not used.
		rest = rest.replace(/^dns:(\/\/[^/]*\/)?/, "");
	} else if (/^(envoy|xds):/.test(rest)) {
		throw invalid(
			uri,
			"envoy:// and xds:// targets are not supported by this daemon; use host:port, dns: or uds:",
		);
	}
	rest = rest.replace(/\/+$/, "");
	if (rest === "" || rest.includes("/"))
		throw invalid(uri, "expected host:port");
	let url: URL;
	try {
		url = new URL(`${tls ? "https" : "http"}://${rest}`);
	} catch {
		throw invalid(uri, "expected host:port");
	}
	if (url.host === "") throw invalid(uri, "expected host:port");
	return { baseUrl: url.origin, tls, socketPath: undefined };
}
