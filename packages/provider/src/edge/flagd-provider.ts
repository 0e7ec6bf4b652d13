import { FlagdProviderBase } from "../flagd-provider-base.js";
import type {
	FlagdProviderOptions,
	FlagdResolverType,
} from "../provider-options.js";
import { createEdgePlatform } from "./edge-platform.js";

/** Options the edge build cannot honour (refused at construction, with the reason, if given anyway). */
type NodeOnlyOption =
	| "socketPath"
	| "certPath"
	| "keepAliveTime"
	| "defaultAuthority"
	| "httpVersion"
	| "offlineFlagSourcePath"
	| "offlinePollIntervalMs";

/**
 * Options of the provider on Deno, Bun, Cloudflare workerd and Vercel Edge: the Node provider's, minus what needs
 * `node:` modules (the file resolver, gRPC, unix sockets, CA files, keepalive pings, a separate authority).
 */
export interface FlagdEdgeProviderOptions
	extends Omit<
		FlagdProviderOptions,
		NodeOnlyOption | "resolver" | "resolverType" | "transport"
	> {
	/** `rpc` (evaluate in the daemon) or `in-process` (sync the flags, evaluate here). @default "rpc" */
	resolver?: Exclude<FlagdResolverType, "file">;
	/** The name `@openfeature/flagd-provider` uses for {@link resolver}; give one or the other. */
	resolverType?: Exclude<FlagdResolverType, "file">;
	/** Only the Connect protocol runs over `fetch`; `grpc` is refused. @default "connect" */
	transport?: "connect";
	/**
	 * The `fetch` to use instead of the global one (e.g. a Cloudflare service binding's, bound:
	 * `env.FLAGD.fetch.bind(env.FLAGD)`). @default globalThis.fetch
	 */
	fetch?: typeof globalThis.fetch;
}

/**
 * OpenFeature provider for flagd (`@openfeature/server-sdk`) on runtimes without `node:` modules: Deno, Bun,
 * Cloudflare workerd, Vercel Edge. rpc and in-process speak the Connect protocol over `fetch`; options,
 * cache, events and evaluation are the Node provider's. Options it cannot honour throw a `TypeError` naming them.
 */
export class FlagdProvider extends FlagdProviderBase {
	constructor(options: FlagdEdgeProviderOptions = {}) {
		const {
			fetch: fetchImpl,
			transport,
			...rest
		} = options as FlagdEdgeProviderOptions & { transport?: unknown };
		if (transport !== undefined && transport !== "connect") {
			throw new TypeError(
				`flagd provider option "transport": ${JSON.stringify(transport)} is not available on this runtime (gRPC needs node:http2); use "connect" or leave it out`,
			);
		}
		if (fetchImpl !== undefined && typeof fetchImpl !== "function") {
			throw new TypeError(
				`flagd provider option "fetch": expected a function, got ${fetchImpl === null ? "null" : typeof fetchImpl}`,
			);
		}
		super(rest as FlagdProviderOptions, createEdgePlatform(fetchImpl));
	}
}
