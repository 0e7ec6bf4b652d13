import type { FlagdTransport } from "./flagd-transport.js";
import type { LocalSessionDependencies } from "./in-process/create-local-session.js";
import type {
	FlagdProviderConfig,
	FlagdProviderOptions,
} from "./provider-options.js";
import type { ResolverSession } from "./resolver-session.js";

/**
 * What differs between the runtimes the provider runs on: where the environment comes from, which options the
 * runtime can honour, how a connection is made, and whether the file resolver exists. Node's implementation
 * (node-platform.ts) uses connect-node and `node:fs`; the edge one (edge/edge-platform.ts) uses `fetch` only.
 * Everything else (options, cache, supervision, resolvers) is shared.
 */
export interface ProviderPlatform {
	/** The `FLAGD_*` variables to read when the `env` option is not given; never throws. */
	readEnvironment(): Readonly<Record<string, string | undefined>>;
	/**
	 * Returns the configuration this runtime runs with, or throws a `TypeError` naming an option (or the variable
	 * it came from) that the runtime cannot honour. `options` are the options as given.
	 */
	finishConfig(
		config: FlagdProviderConfig,
		options: FlagdProviderOptions,
	): FlagdProviderConfig;
	/** A transport to the daemon's evaluation (rpc) or sync (in-process) port. */
	createTransport(config: FlagdProviderConfig): FlagdTransport;
	/** The file resolver's session. */
	createFileSession(deps: LocalSessionDependencies): ResolverSession;
}
