/**
 * The one factory from a SourceConfig to a SyncSource (flagd's sync builder). It is the only file that knows every
 * source kind. Cloud SDKs and the Kubernetes client are not imported here: each source loads its SDK with
 * `await import()` when it starts, so a daemon without those optional packages still runs file/http/grpc sources.
 */
import { DaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { BlobEnv, BlobReader } from "./blob/blob-reader.js";
import { BlobSync } from "./blob/blob-sync.js";
import { FileSync } from "./file/file-sync.js";
import { GrpcSync } from "./grpc/grpc-sync.js";
import { HttpSync } from "./http/http-sync.js";
import { type BlobUri, parseBlobUri } from "./internal/blob-uri.js";
import { KubernetesSync } from "./kubernetes/kubernetes-sync.js";
import type { SourceConfig } from "./source-config.js";
import type { SyncSource } from "./sync-source.js";

export interface CreateSyncSourceDeps {
	readonly logger: Logger;
	/**
	 * Environment for credentials and endpoints (KUBECONFIG, AWS_*, AZURE_STORAGE_*, STORAGE_EMULATOR_HOST).
	 * @default process.env
	 */
	readonly env?: Readonly<Record<string, string | undefined>>;
}

async function openBlobReader(uri: BlobUri, env: BlobEnv): Promise<BlobReader> {
	switch (uri.scheme) {
		case "s3":
			return (await import("./blob/s3-blob-reader.js")).openS3BlobReader(
				uri,
				env,
			);
		case "gs":
			return (await import("./blob/gcs-blob-reader.js")).openGcsBlobReader(
				uri,
				env,
			);
		case "azblob":
			return (
				await import("./blob/azblob-blob-reader.js")
			).openAzblobBlobReader(uri, env);
	}
}

const BLOB_SCHEMES = { s3: "s3", gcs: "gs", azblob: "azblob" } as const;

function blobSource(
	config: SourceConfig,
	deps: CreateSyncSourceDeps,
	env: BlobEnv,
): SyncSource {
	const expected = BLOB_SCHEMES[config.provider as keyof typeof BLOB_SCHEMES];
	const uri = parseBlobUri(config.uri);
	if (uri.scheme !== expected)
		throw new DaemonError(
			"SOURCE_URI_INVALID",
			`source "${config.uri}": provider "${config.provider}" needs a ${expected}:// URI`,
		);
	return new BlobSync({
		uri: config.uri,
		intervalMs: config.intervalMs,
		intervalSeed: config.intervalSeed,
		readTimeoutMs:
			config.timeoutMs === undefined || config.timeoutMs === 0
				? undefined
				: config.timeoutMs,
		logger: deps.logger,
		openReader: () => openBlobReader(uri, env),
	});
}

/** Builds the source for `config`. Rejects with SOURCE_URI_INVALID/CONFIG_INVALID when the config cannot work. */
export async function createSyncSource(
	config: SourceConfig,
	deps: CreateSyncSourceDeps,
): Promise<SyncSource> {
	const env = deps.env ?? process.env;
	switch (config.provider) {
		case "file":
		case "fsnotify":
		case "fileinfo":
			// One implementation for all three: directory watches plus a stat check cover both of flagd's modes.
			return new FileSync({ uri: config.uri, logger: deps.logger });
		case "http":
			return new HttpSync({
				uri: config.uri,
				authHeader: config.authHeader,
				headers: config.headers,
				intervalMs: config.intervalMs,
				intervalSeed: config.intervalSeed,
				timeoutMs: config.timeoutMs,
				logger: deps.logger,
			});
		case "grpc":
			return new GrpcSync({
				uri: config.uri,
				tls: config.tls,
				certPath: config.certPath,
				clientCertPath: config.clientCertPath,
				clientKeyPath: config.clientKeyPath,
				headers: config.headers,
				providerId: config.providerId,
				selector: config.selector,
				maxMsgSizeBytes: config.maxMsgSizeBytes,
				logger: deps.logger,
			});
		case "kubernetes":
			return new KubernetesSync({
				uri: config.uri,
				logger: deps.logger,
				kubeconfigPath: env.KUBECONFIG,
				env,
			});
		case "gcs":
		case "azblob":
		case "s3":
			return blobSource(config, deps, env);
		default: {
			const provider: never = config.provider;
			throw new DaemonError(
				"CONFIG_INVALID",
				`source "${config.uri}": unknown provider "${String(provider)}"`,
			);
		}
	}
}
