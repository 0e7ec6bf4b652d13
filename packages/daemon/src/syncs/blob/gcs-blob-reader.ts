/**
 * GCS driver (@google-cloud/storage, loaded lazily). Change detection by the object's `generation` (a new one per
 * write). Endpoint: `STORAGE_EMULATOR_HOST` from the passed env (the SDK's own emulator switch) or the
 * `apiEndpoint` option; credentials: Application Default Credentials, none against an emulator.
 */
import type { BlobUri } from "../internal/blob-uri.js";
import { loadOptionalModule } from "../internal/load-optional-module.js";
import type { BlobEnv, BlobReader, BlobReadResult } from "./blob-reader.js";

export interface GcsBlobReaderOptions {
	/** Storage API endpoint, e.g. a local emulator. @default STORAGE_EMULATOR_HOST, else Google's endpoint */
	readonly apiEndpoint?: string | undefined;
}

export async function openGcsBlobReader(
	uri: BlobUri,
	env: BlobEnv,
	options: GcsBlobReaderOptions = {},
): Promise<BlobReader> {
	const { Storage } = await loadOptionalModule(
		"@google-cloud/storage",
		"the gcs sync source",
		() => import("@google-cloud/storage"),
	);
	let apiEndpoint = options.apiEndpoint ?? env.STORAGE_EMULATOR_HOST;
	if (apiEndpoint !== undefined && !/^https?:\/\//.test(apiEndpoint))
		apiEndpoint = `http://${apiEndpoint}`;
	const storage = new Storage({
		...(apiEndpoint !== undefined ? { apiEndpoint } : {}),
		...(env.GOOGLE_CLOUD_PROJECT !== undefined
			? { projectId: env.GOOGLE_CLOUD_PROJECT }
			: {}),
		// The poller retries at the next interval itself; the SDK's own retries would only stretch a poll.
		retryOptions: { autoRetry: false },
	});
	const bucket = storage.bucket(uri.bucket);
	return {
		async read(signal, knownVersion): Promise<BlobReadResult> {
			signal.throwIfAborted();
			const [metadata] = await bucket.file(uri.object).getMetadata();
			const generation =
				metadata.generation === undefined
					? undefined
					: String(metadata.generation);
			if (knownVersion !== undefined && generation === knownVersion)
				return { unchanged: true };
			// Download exactly the generation whose metadata we saw, so version and content belong together.
			const file =
				generation === undefined
					? bucket.file(uri.object)
					: bucket.file(uri.object, { generation: Number(generation) });
			const [buffer] = await file.download({ validation: false });
			signal.throwIfAborted();
			return {
				unchanged: false,
				content: buffer.toString("utf8"),
				version: generation,
				contentType: metadata.contentType,
			};
		},
		close() {
			// The SDK holds no long-lived sockets of its own beyond the shared keep-alive agent.
		},
	};
}
