/**
 * `--uri` / `-f` values → SourceConfig, exactly as flagd's ParseSyncProviderURIs does: the scheme picks the
 * provider; `file:`, `core.openfeature.dev/`, `grpc://` and `grpcs://` prefixes are stripped from the id (so
 * `source=` selectors use the bare path / namespace/name / host:port); http(s), gRPC resolver targets and blob URIs
 * keep the full URI (for s3 including its query, flagd#1973).
 */
import { DaemonError } from "../errors.js";
import type { SourceConfig } from "./source-config.js";

const FORMS =
	"must start with 'file:', 'http(s)://', 'grpc(s)://', 'dns:', 'uds:', 'gs://', 'azblob://', 's3://' or 'core.openfeature.dev/'";

function invalid(uri: string, why: string): DaemonError {
	return new DaemonError(
		"SOURCE_URI_INVALID",
		`invalid sync uri "${uri}": ${why}`,
	);
}

export function parseSourceUri(uri: string): SourceConfig {
	if (uri.startsWith("file:")) {
		const path = uri.slice("file:".length);
		if (path === "") throw invalid(uri, "missing file path after 'file:'");
		return { uri: path, provider: "file" };
	}
	if (uri.startsWith("core.openfeature.dev/")) {
		const name = uri.slice("core.openfeature.dev/".length);
		if (!/^[^/]+\/[^/]+$/.test(name))
			throw invalid(uri, "expected core.openfeature.dev/<namespace>/<name>");
		return { uri: name, provider: "kubernetes" };
	}
	if (/^https?:\/\//.test(uri)) {
		try {
			new URL(uri);
		} catch {
			throw invalid(uri, "not a valid URL");
		}
		return { uri, provider: "http" };
	}
	if (uri.startsWith("grpc://") || uri.startsWith("grpcs://")) {
		const tls = uri.startsWith("grpcs://");
		const target = uri.slice(tls ? "grpcs://".length : "grpc://".length);
		if (target === "") throw invalid(uri, "missing host:port");
		return tls
			? { uri: target, provider: "grpc", tls: true }
			: { uri: target, provider: "grpc" };
	}
	if (/^(envoy|dns|uds|xds):/.test(uri)) return { uri, provider: "grpc" };
	for (const [scheme, provider] of [
		["gs", "gcs"],
		["azblob", "azblob"],
		["s3", "s3"],
	] as const) {
		if (uri.startsWith(`${scheme}://`)) {
			if (!new RegExp(`^${scheme}://[^/?]+/[^?]+`).test(uri))
				throw invalid(uri, `expected ${scheme}://<bucket>/<object>`);
			return { uri, provider };
		}
	}
	throw invalid(uri, FORMS);
}

/** Parses every `--uri` value; all invalid ones are reported together. */
export function parseSourceUris(uris: readonly string[]): SourceConfig[] {
	const problems: string[] = [];
	const configs: SourceConfig[] = [];
	for (const uri of uris) {
		try {
			configs.push(parseSourceUri(uri));
		} catch (error: unknown) {
			problems.push(error instanceof Error ? error.message : String(error));
		}
	}
	if (problems.length > 0)
		throw new DaemonError("SOURCE_URI_INVALID", problems.join("\n"));
	return configs;
}
