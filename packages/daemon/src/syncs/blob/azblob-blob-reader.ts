/**
 * Azure Blob driver (@azure/storage-blob, loaded lazily). Credentials from the passed env, in this order:
 * `AZURE_STORAGE_CONNECTION_STRING`; `AZURE_STORAGE_ACCOUNT` with `AZURE_STORAGE_KEY` or `AZURE_STORAGE_SAS_TOKEN`
 * (flagd requires AZURE_STORAGE_ACCOUNT). `AZURE_STORAGE_DOMAIN` (default blob.core.windows.net),
 * `AZURE_STORAGE_PROTOCOL` (default https) and `AZURE_STORAGE_IS_LOCAL_EMULATOR` shape the service URL as in
 * gocloud's azureblob. Change detection: download with If-None-Match (304 → unchanged).
 */
import { DaemonError } from "../../errors.js";
import type { BlobUri } from "../internal/blob-uri.js";
import { loadOptionalModule } from "../internal/load-optional-module.js";
import type { BlobEnv, BlobReader, BlobReadResult } from "./blob-reader.js";

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value.trim() === "" ? undefined : value;
}

async function streamToString(
	stream: NodeJS.ReadableStream | undefined,
): Promise<string> {
	if (stream === undefined) return "";
	const chunks: Buffer[] = [];
	for await (const chunk of stream)
		chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
	return Buffer.concat(chunks).toString("utf8");
}

export async function openAzblobBlobReader(
	uri: BlobUri,
	env: BlobEnv,
): Promise<BlobReader> {
	const connectionString = nonEmpty(env.AZURE_STORAGE_CONNECTION_STRING);
	const account = nonEmpty(env.AZURE_STORAGE_ACCOUNT);
	if (connectionString === undefined && account === undefined)
		throw new DaemonError(
			"SOURCE_UNAVAILABLE",
			`azblob source "azblob://${uri.bucket}/${uri.object}": set AZURE_STORAGE_ACCOUNT (with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN) or AZURE_STORAGE_CONNECTION_STRING`,
		);
	if (account !== undefined && /\s/.test(account))
		throw new DaemonError(
			"SOURCE_UNAVAILABLE",
			"environment variable AZURE_STORAGE_ACCOUNT contains whitespace",
		);
	const sdk = await loadOptionalModule(
		"@azure/storage-blob",
		"the azblob sync source",
		() => import("@azure/storage-blob"),
	);
	let service: InstanceType<typeof sdk.BlobServiceClient>;
	if (connectionString !== undefined) {
		service = sdk.BlobServiceClient.fromConnectionString(connectionString);
	} else {
		const name = account ?? "";
		const protocol = nonEmpty(env.AZURE_STORAGE_PROTOCOL) ?? "https";
		const domain =
			nonEmpty(env.AZURE_STORAGE_DOMAIN) ?? "blob.core.windows.net";
		const emulator = /^(1|true)$/i.test(
			env.AZURE_STORAGE_IS_LOCAL_EMULATOR ?? "",
		);
		const base = emulator
			? `${protocol}://${domain}/${name}`
			: `${protocol}://${name}.${domain}`;
		const key = nonEmpty(env.AZURE_STORAGE_KEY);
		const sas = nonEmpty(env.AZURE_STORAGE_SAS_TOKEN);
		if (key !== undefined) {
			service = new sdk.BlobServiceClient(
				base,
				new sdk.StorageSharedKeyCredential(name, key),
			);
		} else if (sas !== undefined) {
			service = new sdk.BlobServiceClient(`${base}?${sas.replace(/^\?/, "")}`);
		} else {
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`azblob source "azblob://${uri.bucket}/${uri.object}": AZURE_STORAGE_ACCOUNT is set but neither AZURE_STORAGE_KEY nor AZURE_STORAGE_SAS_TOKEN (Azure AD credentials are not supported)`,
			);
		}
	}
	const blob = service.getContainerClient(uri.bucket).getBlobClient(uri.object);
	return {
		async read(signal, knownVersion): Promise<BlobReadResult> {
			try {
				const response = await blob.download(0, undefined, {
					abortSignal: signal,
					...(knownVersion !== undefined
						? { conditions: { ifNoneMatch: knownVersion } }
						: {}),
				});
				const content = await streamToString(response.readableStreamBody);
				return {
					unchanged: false,
					content,
					version: response.etag,
					contentType: response.contentType,
				};
			} catch (error: unknown) {
				if ((error as { statusCode?: number }).statusCode === 304)
					return { unchanged: true };
				throw error;
			}
		},
		close() {
			// The SDK's pipeline keeps no sockets open beyond Node's keep-alive agent.
		},
	};
}
