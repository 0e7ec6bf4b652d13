export type { DaemonConfig, TlsConfig } from "./config/daemon-config.js";
export { DaemonError, type DaemonErrorCode, isDaemonError } from "./errors.js";
export { type Logger, silentLogger } from "./logger.js";
export type { SourceConfig, SourceProvider } from "./syncs/source-config.js";
export type { SyncPayload, SyncSource } from "./syncs/sync-source.js";
