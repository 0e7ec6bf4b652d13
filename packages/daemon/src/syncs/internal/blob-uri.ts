/**
 * Blob source URIs as flagd reads them: `s3://bucket/key?query`, `gs://bucket/object`, `azblob://container/object`.
 * The query string holds driver options (flagd moves it onto the bucket URL, flagd#1973); the object key is
 * everything between the first `/` after the bucket and the query.
 */
import { DaemonError } from "../../errors.js";

export type BlobScheme = "s3" | "gs" | "azblob";

export interface BlobUri {
	readonly scheme: BlobScheme;
	readonly bucket: string;
	readonly object: string;
	readonly query: URLSearchParams;
}

const BLOB_URI = /^(s3|gs|azblob):\/\/([^/?#]+)\/([^?#]+)(?:\?([^#]*))?$/;

export function parseBlobUri(uri: string): BlobUri {
	const match = BLOB_URI.exec(uri);
	if (match === null) {
		throw new DaemonError(
			"SOURCE_URI_INVALID",
			`blob source "${uri}": expected s3://bucket/key, gs://bucket/object or azblob://container/object`,
		);
	}
	const [, scheme, bucket, object, query] = match;
	return {
		scheme: scheme as BlobScheme,
		bucket: bucket ?? "",
		object: decodeURIComponent(object ?? ""),
		query: new URLSearchParams(query ?? ""),
	};
}
