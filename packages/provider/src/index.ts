/**
 * @flagd-ts/provider: the OpenFeature flagd provider for Node (`@openfeature/server-sdk`) over gRPC or Connect.
 */
export {
	createFlagdTransport,
	type FlagdTransport,
} from "./create-transport.js";
export { type EnvOptions, readEnvOptions } from "./env.js";
export { FlagdProvider } from "./flagd-provider.js";
export {
	type FlagdTarget,
	parseTargetUri,
	resolveFlagdTarget,
} from "./flagd-target.js";
export {
	FLAGD_PROVIDER_OPTION_SPECS,
	NODE_OPTION_SPECS,
} from "./option-table.js";
export {
	type FlagdProviderConfig,
	type FlagdProviderOptions,
	type ResolvedFlagdProviderOptions,
	resolveFlagdProviderOptions,
	type TransportProtocol,
} from "./provider-options.js";
export {
	injectTraceContext,
	traceContextInterceptor,
} from "./trace-context-interceptor.js";
export { FEATURE_FLAG_EVENT, TracingHook } from "./tracing-hook.js";
