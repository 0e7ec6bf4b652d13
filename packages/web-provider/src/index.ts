/**
 * @flagd-ts/web-provider: the flagd provider for @openfeature/web-sdk (browsers). Speaks flagd.evaluation.v1
 * (ResolveAll + EventStream) with connect-web's Connect transport (JSON format) by default; any connect-es
 * transport can be plugged in with `fromConnectTransport`.
 */
export {
	FlagdWebError,
	type FlagdWebErrorCode,
	isFlagdWebError,
} from "./errors.js";
export {
	createFetchTransport,
	type FetchTransportOptions,
} from "./fetch-transport.js";
export type { ConnectionState } from "./flagd-web-connection.js";
export { FlagdWebProvider } from "./flagd-web-provider.js";
export {
	type FlagdWebProviderConfig,
	type FlagdWebProviderOptions,
	resolveFlagdWebProviderOptions,
} from "./flagd-web-provider-options.js";
export type {
	CallOptions,
	EventStreamMessage,
	FlagdWebTransport,
	JsonObject,
	JsonValue,
} from "./flagd-web-transport.js";
export {
	type FromConnectTransportOptions,
	fromConnectTransport,
} from "./from-connect-transport.js";
export {
	defaultOfrepCacheKey,
	type KeyValueStorage,
	type OfrepBulkSnapshot,
	type OfrepCacheKeyInput,
	type OfrepCacheMode,
	type OfrepChangeDetection,
	type OfrepFlagItem,
	type OfrepHeaders,
	OfrepRequestError,
	OfrepWebProvider,
	type OfrepWebProviderConfig,
	type OfrepWebProviderEnvironment,
	type OfrepWebProviderOptions,
	resolveOfrepWebProviderOptions,
} from "./ofrep.js";
