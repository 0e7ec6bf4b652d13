import { FlagdProviderBase } from "./flagd-provider-base.js";
import { NODE_PLATFORM } from "./node-platform.js";
import type { FlagdProviderOptions } from "./provider-options.js";

/**
 * OpenFeature provider for flagd on Node (`@openfeature/server-sdk`): rpc over gRPC (default) or Connect with
 * connect-node, in-process from the sync stream, or a local flag file. See {@link FlagdProviderBase} for the
 * behaviour, which every runtime shares.
 */
export class FlagdProvider extends FlagdProviderBase {
	constructor(options: FlagdProviderOptions = {}) {
		super(options, NODE_PLATFORM);
	}
}
