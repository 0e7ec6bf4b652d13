/**
 * Which parser a flag document needs. flagd picks it by file extension for files and by Content-Type (falling back
 * to the URL's extension) for remote sources.
 */
export type DocumentFormat = "json" | "yaml";

/** `.json` → json, `.yaml`/`.yml` → yaml (case-insensitive); anything else → undefined. */
export function formatFromPath(path: string): DocumentFormat | undefined {
	const lower = path.toLowerCase();
	if (lower.endsWith(".json")) return "json";
	if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
	return undefined;
}

/** `application/yaml`, `text/yaml`, `application/x-yaml`, … → yaml; `…json…` → json; else undefined. */
export function formatFromContentType(
	contentType: string | null | undefined,
): DocumentFormat | undefined {
	if (contentType === null || contentType === undefined) return undefined;
	const mime = (contentType.split(";")[0] ?? "").trim().toLowerCase();
	if (mime.includes("yaml") || mime.includes("yml")) return "yaml";
	if (mime.includes("json")) return "json";
	return undefined;
}

/**
 * Format of a remote document: Content-Type first, then the URL path's extension, then JSON (what flagd assumes).
 */
export function formatForRemote(
	contentType: string | null | undefined,
	urlPath: string,
): DocumentFormat {
	return (
		formatFromContentType(contentType) ?? formatFromPath(urlPath) ?? "json"
	);
}
