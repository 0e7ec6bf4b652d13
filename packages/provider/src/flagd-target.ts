import type { FlagdProviderConfig } from "./provider-options.js";

/** Where the provider connects and what it calls the server (`:authority` / `Host`). */
export type FlagdTarget =
	| {
			readonly kind: "tcp";
			readonly host: string;
			readonly port: number;
			readonly authority: string;
	  }
	| {
			readonly kind: "unix";
			readonly path: string;
			readonly authority: string;
	  };

/**
 * Works out the connection target. Precedence: `socketPath` > `targetUri` > `host`/`port`; `defaultAuthority`
 * overrides the authority of any of them. Throws a `TypeError` naming `targetUri` for a target it cannot use.
 */
export function resolveFlagdTarget(
	config: Pick<
		FlagdProviderConfig,
		"socketPath" | "targetUri" | "host" | "port" | "defaultAuthority"
	>,
): FlagdTarget {
	const target = baseTarget(config);
	if (config.defaultAuthority === undefined) return target;
	return { ...target, authority: config.defaultAuthority };
}

function baseTarget(
	config: Pick<
		FlagdProviderConfig,
		"socketPath" | "targetUri" | "host" | "port"
	>,
): FlagdTarget {
	if (config.socketPath !== undefined) {
		return { kind: "unix", path: config.socketPath, authority: "localhost" };
	}
	if (config.targetUri === undefined) {
		return tcp(config.host, config.port, undefined);
	}
	return parseTargetUri(config.targetUri);
}

/**
 * Parses a gRPC-style target: `envoy://host:port/authority`, `dns:host:port`, `dns:///host:port`,
 * `dns://resolver/host:port` (the resolver is not used), `unix:/path`, `unix:///path`, or a bare `host:port`.
 */
export function parseTargetUri(uri: string): FlagdTarget {
	const problem = (why: string): TypeError =>
		new TypeError(
			`flagd provider option "targetUri": ${why} (got ${JSON.stringify(uri)})`,
		);
	const envoy = /^envoy:\/\/([^/]+)\/([^/]+)\/?$/.exec(uri);
	if (envoy) {
		const [host, port] = splitHostPort(envoy[1] ?? "", problem);
		return tcp(host, port, envoy[2]);
	}
	const unix = /^unix:(?:\/\/)?(\/.+)$/.exec(uri);
	if (unix?.[1]) return { kind: "unix", path: unix[1], authority: "localhost" };
	const dns = /^dns:(?:\/\/[^/]*\/)?(.+)$/.exec(uri);
	const hostPort = dns ? (dns[1] ?? "") : uri;
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort)) {
		throw problem(
			"unsupported scheme; use envoy://host:port/authority, dns:host:port or unix:/path",
		);
	}
	const [host, port] = splitHostPort(hostPort, problem);
	return tcp(host, port, undefined);
}

function splitHostPort(
	text: string,
	problem: (why: string) => TypeError,
): [string, number] {
	const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
	if (!m) throw problem("expected host:port");
	const port = Number(m[2]);
	if (port < 1 || port > 65535) throw problem("port out of range");
	return [(m[1] ?? "").replace(/^\[|\]$/g, ""), port];
}

function tcp(
	host: string,
	port: number,
	authority: string | undefined,
): FlagdTarget {
	const hostForUrl = host.includes(":") ? `[${host}]` : host;
	return {
		kind: "tcp",
		host,
		port,
		authority: authority ?? `${hostForUrl}:${port}`,
	};
}
