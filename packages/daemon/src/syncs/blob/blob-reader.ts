/**
 * What a blob driver (s3, gcs, azblob) provides to BlobSync: a conditional read keyed by the store's version token
 * (ETag, or GCS generation), so an unchanged object costs one metadata round trip and no download.
 */
export type BlobReadResult =
	| { readonly unchanged: true }
	| {
			readonly unchanged: false;
			readonly content: string;
			/** Version token of what was read (ETag / generation); undefined if the store gave none. */
			readonly version: string | undefined;
			readonly contentType: string | undefined;
	  };

export interface BlobReader {
	/** Reads the object unless its version still equals `knownVersion`. Rejects on any failure. */
	read(
		signal: AbortSignal,
		knownVersion: string | undefined,
	): Promise<BlobReadResult>;
	/** Releases the SDK client (sockets, agents). */
	close(): void;
}

/** Environment the drivers read credentials and endpoints from (process.env by default; a test seam). */
export type BlobEnv = Readonly<Record<string, string | undefined>>;
