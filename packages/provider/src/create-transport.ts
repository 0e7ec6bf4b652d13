import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { type FlagdTarget, resolveFlagdTarget } from "./flagd-target.js";
import type { FlagdTransport } from "./flagd-transport.js";
import { createGrpcUnaryTransport } from "./grpc-unary-transport.js";
import { GuardedHttp2SessionManager } from "./guarded-http2-session-manager.js";
import type { FlagdProviderConfig } from "./provider-options.js";
import { tlsMismatchInterceptor } from "./tls-mismatch-interceptor.js";
import { traceContextInterceptor } from "./trace-context-interceptor.js";

export type { FlagdTransport };

/**
 * Builds the Connect transport for a resolved config: gRPC (HTTP/2) or Connect (HTTP/1.1 or HTTP/2), with TLS and
 * an optional custom CA, over TCP or a unix socket, and with the `:authority`/`Host` the target asks for. When the
 * authority differs from the address (envoy targets, `defaultAuthority`) or the target is a socket, the URL
 * carries the authority and a custom connection function dials the real address.
 *
 * Everything runs on connect-node over `node:http2` / `node:http`: over HTTP/2 the unary calls and the event
 * stream share one session manager, so one connection. gRPC unary calls take grpc-unary-transport.ts (connect's
 * call, header, envelope and serialization helpers on that session manager, without the generic stream
 * pipeline); the rest is connect-node's transports. Interceptors (trace propagation, the TLS hint) see every call,
 * unary and streaming alike.
 */
export function createFlagdTransport(
	config: FlagdProviderConfig,
): FlagdTransport {
	const target = resolveFlagdTarget(config);
	const ca =
		config.certPath === undefined ? undefined : readCa(config.certPath);
	const baseUrl = `${config.tls ? "https" : "http"}://${target.authority}`;
	const description =
		target.kind === "unix"
			? `unix:${target.path}`
			: `${config.tls ? "https" : "http"}://${target.host}:${target.port}${target.authority === `${target.host}:${target.port}` ? "" : ` (authority ${target.authority})`}`;
	const dialsElsewhere =
		target.kind === "unix" ||
		target.authority !== `${bracket(target.host)}:${target.port}`;
	const servername = serverName(target);

	if (config.transport === "connect" && config.httpVersion === "1.1") {
		const agentOptions = {
			keepAlive: true,
			...(ca === undefined ? {} : { ca }),
		};
		const agent = config.tls
			? new https.Agent(agentOptions)
			: new http.Agent(agentOptions);
		if (dialsElsewhere) {
			// http.Agent calls createConnection for every new socket; we dial the real address here.
			(
				agent as unknown as { createConnection: () => net.Socket }
			).createConnection = () =>
				dial(target, config.tls, { ca, servername, alpn: ["http/1.1"] });
		}
		const transport = createConnectTransport({
			baseUrl,
			httpVersion: "1.1",
			useBinaryFormat: true,
			nodeOptions: { agent },
			interceptors: interceptorsFor(config),
		});
		// Destroying an Agent's sockets does not retire the Agent: later requests open new sockets.
		return {
			transport,
			description,
			binaryFormat: true,
			resetConnections: () => agent.destroy(),
			close: () => agent.destroy(),
		};
	}

	const dialH2 = () =>
		dial(target, config.tls, { ca, servername, alpn: ["h2"] });
	const nodeOptions: import("node:http2").SecureClientSessionOptions = {};
	if (ca !== undefined) nodeOptions.ca = ca;
	// Our own session manager, so close() can end the HTTP/2 connection (and its socket, which it dials itself)
	// instead of waiting for its idle timeout, shared by unary calls and the event stream (one connection).
	const sessionManager = new GuardedHttp2SessionManager(
		baseUrl,
		config.keepAliveTime > 0 ? { pingIntervalMs: config.keepAliveTime } : {},
		nodeOptions,
		dialH2,
	);
	const interceptors = interceptorsFor(config);
	const transport =
		config.transport === "connect"
			? createConnectTransport({
					baseUrl,
					httpVersion: "2",
					useBinaryFormat: true,
					sessionManager,
					interceptors,
				})
			: createGrpcUnaryTransport({
					baseUrl,
					sessionManager,
					interceptors,
					streamTransport: createGrpcTransport({
						baseUrl,
						sessionManager,
						interceptors,
					}),
				});
	// abort() closes the session; the manager dials again on the next request.
	return {
		transport,
		description,
		binaryFormat: true,
		resetConnections: () => sessionManager.abort(),
		close: () => sessionManager.abort(),
	};
}

function dial(
	target: FlagdTarget,
	useTls: boolean,
	tlsOptions: {
		ca: Buffer | undefined;
		servername: string | undefined;
		alpn: string[];
	},
): net.Socket {
	const address =
		target.kind === "unix"
			? { path: target.path }
			: { host: target.host, port: target.port };
	if (!useTls) return net.connect(address);
	return tls.connect({
		...address,
		...(tlsOptions.ca === undefined ? {} : { ca: tlsOptions.ca }),
		...(tlsOptions.servername === undefined
			? {}
			: { servername: tlsOptions.servername }),
		ALPNProtocols: tlsOptions.alpn,
	});
}

/** TLS SNI / certificate host name: the authority's host, unless it is an IP address (SNI forbids those). */
function serverName(target: FlagdTarget): string | undefined {
	const host = target.authority.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
	return net.isIP(host) === 0 ? host : undefined;
}

function bracket(host: string): string {
	return host.includes(":") ? `[${host}]` : host;
}

function readCa(certPath: string): Buffer {
	try {
		return readFileSync(certPath);
	} catch (err: unknown) {
		// Falling back to the system roots (as @openfeature/flagd-provider does) would hide a typo until TLS fails.
		throw new Error(
			`flagd provider option "certPath": cannot read ${certPath}`,
			{ cause: err },
		);
	}
}

function interceptorsFor(config: FlagdProviderConfig) {
	const hint = tlsMismatchInterceptor(config.tls);
	return config.tracePropagation ? [hint, traceContextInterceptor] : [hint];
}
