/**
 * @flagd-ts/provider for runtimes without `node:` modules (Deno, Bun, Cloudflare workerd, Vercel Edge): the
 * OpenFeature flagd provider with the Connect protocol over `fetch`. Selected by the package's `deno`, `bun`,
 * `workerd`, `edge-light` and `worker` export conditions, or imported as `@flagd-ts/provider/edge`.
 */
export { type EnvOptions, readEnvOptions } from "../env.js";
export {
	type FlagdTarget,
	parseTargetUri,
	resolveFlagdTarget,
} from "../flagd-target.js";
export type { FlagdTransport } from "../flagd-transport.js";
export {
	FLAGD_PROVIDER_OPTION_SPECS,
	NODE_OPTION_SPECS,
} from "../option-table.js";
export {
	type ContextEnricher,
	type EvaluatorMode,
	type FlagdProviderConfig,
	type FlagdResolverType,
	type ResolvedFlagdProviderOptions,
	resolveFlagdProviderOptions,
} from "../provider-options.js";
export {
	injectTraceContext,
	traceContextInterceptor,
} from "../trace-context-interceptor.js";
export { FEATURE_FLAG_EVENT, TracingHook } from "../tracing-hook.js";
export { createFetchTransport } from "./create-fetch-transport.js";
export {
	type FlagdEdgeProviderOptions,
	type FlagdEdgeProviderOptions as FlagdProviderOptions,
	FlagdProvider,
} from "./flagd-provider.js";
export { readRuntimeEnv } from "./read-runtime-env.js";
