/**
 * The daemon package's name and version, read from its package.json at run time (both from src/ under tsx and from
 * dist/ when built, the file sits two levels below the package root), so `flagd version` never goes stale. The
 * single-file bundle (scripts/bundle-daemon.mjs) has no package.json beside it: esbuild defines
 * FLAGD_BUNDLED_PACKAGE_INFO with the values at bundle time instead.
 */
import { readFileSync } from "node:fs";

export interface PackageInfo {
	readonly name: string;
	readonly version: string;
}

declare const FLAGD_BUNDLED_PACKAGE_INFO: PackageInfo | undefined;

let cached: PackageInfo | undefined;

export function readPackageInfo(): PackageInfo {
	if (cached !== undefined) return cached;
	if (typeof FLAGD_BUNDLED_PACKAGE_INFO !== "undefined") {
		cached = FLAGD_BUNDLED_PACKAGE_INFO;
		return cached;
	}
	const url = new URL("../../package.json", import.meta.url);
	const json: unknown = JSON.parse(readFileSync(url, "utf8"));
	const record = (json ?? {}) as { name?: unknown; version?: unknown };
	cached = {
		name: typeof record.name === "string" ? record.name : "@flagd-ts/daemon",
		version: typeof record.version === "string" ? record.version : "unknown",
	};
	return cached;
}

/** `flagd version` output: name, version, Node.js version and platform, one per line. */
export function formatVersion(): string {
	const info = readPackageInfo();
	return [
		`flagd (${info.name}) ${info.version}`,
		`node ${process.version} (${process.platform}/${process.arch})`,
		"",
	].join("\n");
}
