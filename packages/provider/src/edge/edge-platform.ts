import { resolveFlagdTarget } from "../flagd-target.js";
import { FLAGD_PROVIDER_OPTION_SPECS } from "../option-table.js";
import type {
	FlagdProviderConfig,
	FlagdProviderOptions,
} from "../provider-options.js";
import type { ProviderPlatform } from "../provider-platform.js";
import { createFetchTransport } from "./create-fetch-transport.js";
import { readRuntimeEnv } from "./read-runtime-env.js";

/** Why an option cannot work through `fetch`, by option name. */
const UNAVAILABLE: Readonly<Record<string, string>> = {
	socketPath: "fetch cannot dial unix sockets",
	certPath:
		"fetch trusts the runtime's certificate store only (add the CA there, e.g. DENO_CERT or NODE_EXTRA_CA_CERTS)",
	keepAliveTime: "fetch sends no HTTP/2 keepalive pings",
	defaultAuthority: "fetch sends the Host of the URL",
	httpVersion: "fetch chooses the HTTP version",
};

/**
 * Runtimes without `node:` modules (Deno, Bun, Cloudflare workerd, Vercel Edge): the Connect protocol over `fetch`
 * for rpc and in-process, environment read only where the runtime allows it, and no file resolver.
 */
export function createEdgePlatform(
	fetchImpl?: typeof globalThis.fetch,
): ProviderPlatform {
	return {
		readEnvironment: readRuntimeEnv,
		finishConfig,
		createTransport: (config) => createFetchTransport(config, fetchImpl),
		createFileSession: () => {
			// finishConfig has refused the file resolver already.
			throw new TypeError(fileRefusal('option "resolver"'));
		},
	};
}

/** Refuses what `fetch` cannot do, naming the option (and the variable it came from); the transport is Connect. */
function finishConfig(
	config: FlagdProviderConfig,
	options: FlagdProviderOptions,
): FlagdProviderConfig {
	if (config.resolver === "file") {
		const cause =
			options.resolver === "file" || options.resolverType === "file"
				? `option "${options.resolver === "file" ? "resolver" : "resolverType"}"`
				: config.offlineFlagSourcePath !== undefined
					? sourceOf("offlineFlagSourcePath", options)
					: sourceOf("resolver", options);
		throw new TypeError(fileRefusal(cause));
	}
	for (const [name, why] of Object.entries(UNAVAILABLE)) {
		const value = (config as unknown as Record<string, unknown>)[name];
		// httpVersion has no variable and always resolves to a value; keepAliveTime 0 means "off".
		const set =
			name === "httpVersion"
				? options.httpVersion !== undefined
				: name === "keepAliveTime"
					? value !== 0
					: value !== undefined;
		if (!set) continue;
		throw new TypeError(
			`flagd provider ${sourceOf(name, options)} is not available on this runtime: ${why}; remove it`,
		);
	}
	if (config.targetUri !== undefined) {
		const target = resolveFlagdTarget(config);
		if (
			target.kind === "unix" ||
			target.authority !== `${bracket(target.host)}:${target.port}`
		) {
			throw new TypeError(
				`flagd provider ${sourceOf("targetUri", options)} is not available on this runtime: fetch can reach host:port targets only (no unix sockets, no separate authority); use "host" and "port"`,
			);
		}
	}
	return Object.freeze({ ...config, transport: "connect" });
}

function fileRefusal(cause: string): string {
	return `flagd provider ${cause} selects the file resolver, which is not available on this runtime (no file system); use resolver "rpc" or "in-process"`;
}

/** `option "x"`, or `option "x" (from FLAGD_X)` when the value came from the environment. */
function sourceOf(name: string, options: FlagdProviderOptions): string {
	if ((options as Record<string, unknown>)[name] !== undefined)
		return `option "${name}"`;
	const variable = FLAGD_PROVIDER_OPTION_SPECS.find(
		(spec) => spec.name === name,
	)?.env;
	return variable === undefined
		? `option "${name}"`
		: `option "${name}" (from ${variable})`;
}

function bracket(host: string): string {
	return host.includes(":") ? `[${host}]` : host;
}
