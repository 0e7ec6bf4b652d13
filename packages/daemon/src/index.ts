/**
 * @flagd-ts/daemon: a flagd-compatible daemon. Embed it with `startDaemon(defaultDaemonConfig({...}))`, or run the
 * `flagd` CLI (cli/main.ts). The building blocks (config resolution, sync sources, the store) are exported for tools and
 * tests that compose their own daemon.
 */
export type { DaemonConfig, TlsConfig } from "./config/daemon-config.js";
export {
	DAEMON_FLAGS,
	envVarName,
	type FlagSpec,
} from "./config/daemon-flags.js";
export { DEFAULTS as DAEMON_DEFAULTS } from "./config/defaults.js";
export {
	type ResolveDaemonConfigInput,
	type ResolvedDaemonConfig,
	resolveDaemonConfig,
} from "./config/resolve-daemon-config.js";
export { DaemonError, type DaemonErrorCode, isDaemonError } from "./errors.js";
export { createLogger, type LoggerOptions } from "./logging/create-logger.js";
export { type Logger, silentLogger } from "./logging/logger.js";
export { defaultDaemonConfig } from "./runtime/default-daemon-config.js";
export {
	type DaemonPorts,
	type RunningDaemon,
	type StartDaemonOptions,
	startDaemon,
} from "./runtime/start-daemon.js";
export {
	type ApplyResult,
	type FlagChangeListener,
	FlagStore,
	type FlagStoreOptions,
	type StoreUpdate,
} from "./store/flag-store.js";
export type { FlagChanges, FlagView } from "./store/flag-view.js";
export { parseSelector, SELECT_ALL, type Selector } from "./store/selector.js";
export { SelectorCache } from "./store/selector-cache.js";
export { BlobSync, type BlobSyncOptions } from "./syncs/blob/blob-sync.js";
export {
	type CreateSyncSourceDeps,
	createSyncSource,
} from "./syncs/create-sync-source.js";
export { FileSync, type FileSyncOptions } from "./syncs/file/file-sync.js";
export { GrpcSync, type GrpcSyncOptions } from "./syncs/grpc/grpc-sync.js";
export { HttpSync, type HttpSyncOptions } from "./syncs/http/http-sync.js";
export {
	KubernetesSync,
	type KubernetesSyncOptions,
} from "./syncs/kubernetes/kubernetes-sync.js";
export { parseSourceUri, parseSourceUris } from "./syncs/parse-source-uri.js";
export {
	type ParseSourcesResult,
	parseSources,
	parseSourcesResult,
} from "./syncs/parse-sources.js";
export type { SourceConfig, SourceProvider } from "./syncs/source-config.js";
export type { SyncPayload, SyncSource } from "./syncs/sync-source.js";
