/**
 * `@flagd-ts/web-provider/ofrep`: the OFREP web provider alone (fetch + JSON + EventSource), without the Connect
 * and protobuf code of `FlagdWebProvider`.
 */
export {
	type OfrepBulkSnapshot,
	type OfrepFlagItem,
	OfrepRequestError,
} from "./ofrep-bulk-client.js";
export type { KeyValueStorage } from "./ofrep-flag-store.js";
export {
	OfrepWebProvider,
	type OfrepWebProviderEnvironment,
} from "./ofrep-web-provider.js";
export {
	defaultOfrepCacheKey,
	type OfrepCacheKeyInput,
	type OfrepCacheMode,
	type OfrepChangeDetection,
	type OfrepHeaders,
	type OfrepWebProviderConfig,
	type OfrepWebProviderOptions,
	resolveOfrepWebProviderOptions,
} from "./ofrep-web-provider-options.js";
