/**
 * S3 driver (AWS SDK v3, loaded lazily). Options come from the URI's query string as in gocloud's s3blob, which
 * flagd uses: `region`, `endpoint`, `use_path_style` (alias `s3ForcePathStyle`), `disable_https`. Credentials
 * follow the AWS default chain; `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` from the passed env take precedence.
 * Change detection: GetObject with If-None-Match (304 → unchanged).
 */
import { DaemonError } from "../../errors.js";
import type { BlobUri } from "../internal/blob-uri.js";
import { loadOptionalModule } from "../internal/load-optional-module.js";
import type { BlobEnv, BlobReader, BlobReadResult } from "./blob-reader.js";

const KNOWN_PARAMS = new Set([
	"region",
	"endpoint",
	"use_path_style",
	"s3ForcePathStyle",
	"disable_https",
]);

function flag(value: string | null): boolean {
	return value !== null && /^(1|true|yes)$/i.test(value);
}

export interface S3ClientSettings {
	readonly region: string;
	readonly endpoint: string | undefined;
	readonly forcePathStyle: boolean;
}

/** The client settings a URI asks for; unknown query parameters are an error (a typo would silently hit AWS). */
export function s3ClientSettings(uri: BlobUri, env: BlobEnv): S3ClientSettings {
	const unknown = [...uri.query.keys()].filter((key) => !KNOWN_PARAMS.has(key));
	if (unknown.length > 0)
		throw new DaemonError(
			"SOURCE_URI_INVALID",
			`s3 source "s3://${uri.bucket}/${uri.object}": unknown query parameter(s) ${unknown.join(", ")}; supported: ${[...KNOWN_PARAMS].join(", ")}`,
		);
	let endpoint = uri.query.get("endpoint") ?? undefined;
	if (endpoint !== undefined && !/^https?:\/\//.test(endpoint))
		endpoint = `${flag(uri.query.get("disable_https")) ? "http" : "https"}://${endpoint}`;
	return {
		region:
			uri.query.get("region") ??
			env.AWS_REGION ??
			env.AWS_DEFAULT_REGION ??
			"us-east-1",
		endpoint,
		forcePathStyle:
			flag(uri.query.get("use_path_style")) ||
			flag(uri.query.get("s3ForcePathStyle")),
	};
}

export async function openS3BlobReader(
	uri: BlobUri,
	env: BlobEnv,
): Promise<BlobReader> {
	const settings = s3ClientSettings(uri, env);
	const sdk = await loadOptionalModule(
		"@aws-sdk/client-s3",
		"the s3 sync source",
		() => import("@aws-sdk/client-s3"),
	);
	const accessKeyId = env.AWS_ACCESS_KEY_ID;
	const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
	const client = new sdk.S3Client({
		region: settings.region,
		forcePathStyle: settings.forcePathStyle,
		...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
		...(accessKeyId !== undefined && secretAccessKey !== undefined
			? {
					credentials: {
						accessKeyId,
						secretAccessKey,
						...(env.AWS_SESSION_TOKEN !== undefined
							? { sessionToken: env.AWS_SESSION_TOKEN }
							: {}),
					},
				}
			: {}),
	});
	return {
		async read(signal, knownVersion): Promise<BlobReadResult> {
			try {
				const response = await client.send(
					new sdk.GetObjectCommand({
						Bucket: uri.bucket,
						Key: uri.object,
						...(knownVersion !== undefined
							? { IfNoneMatch: knownVersion }
							: {}),
					}),
					{ abortSignal: signal },
				);
				const content = (await response.Body?.transformToString("utf-8")) ?? "";
				return {
					unchanged: false,
					content,
					version: response.ETag,
					contentType: response.ContentType,
				};
			} catch (error: unknown) {
				const status = (error as { $metadata?: { httpStatusCode?: number } })
					.$metadata?.httpStatusCode;
				if (status === 304) return { unchanged: true };
				throw error;
			}
		},
		close() {
			client.destroy();
		},
	};
}
