/**
 * One sync source as configured by `--uri` or a `--sources` entry (flagd's SourceConfig, units in names).
 * Contract between config/ (which builds these) and syncs/create-sync-source.ts (which turns them into sources).
 */
export type SourceProvider =
	| "file"
	| "fsnotify"
	| "fileinfo"
	| "http"
	| "grpc"
	| "kubernetes"
	| "gcs"
	| "azblob"
	| "s3";

export interface SourceConfig {
	/** The location as configured; also the source id (merge priority, `source=` selector). */
	readonly uri: string;
	readonly provider: SourceProvider;
	/** http: full `Authorization` header value (`Bearer …`, `Basic …`). */
	readonly authHeader?: string;
	/** http, grpc: extra request headers / gRPC metadata. */
	readonly headers?: Readonly<Record<string, string>>;
	/** http, blobs: poll interval. @default 5000 */
	readonly intervalMs?: number;
	/** http, blobs: deterministic poll offset so replicas don't poll in lock-step. */
	readonly intervalSeed?: string;
	/** http: request timeout; 0 = none. */
	readonly timeoutMs?: number;
	/** grpc: TLS (also implied by grpcs://). */
	readonly tls?: boolean;
	/** grpc: CA certificate path; system roots when unset. */
	readonly certPath?: string;
	/** grpc: PEM client certificate presented to an upstream that requires one (mutual TLS). Ours, not flagd's. */
	readonly clientCertPath?: string;
	/** grpc: PEM private key of `clientCertPath`. */
	readonly clientKeyPath?: string;
	/** grpc: sent as `provider_id`. */
	readonly providerId?: string;
	/** grpc: selector sent upstream. */
	readonly selector?: string;
	/** grpc: max receive message size. @default 4 MiB */
	readonly maxMsgSizeBytes?: number;
}
