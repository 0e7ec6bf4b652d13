import { Code } from "@connectrpc/connect";

/** Result of parsing gRPC status names: the codes recognised and the names that were not. */
export interface ParsedStatusCodes {
	readonly codes: ReadonlySet<Code>;
	readonly unknown: readonly string[];
}

const BY_NAME = new Map<string, Code>();
for (const [name, value] of Object.entries(Code)) {
	if (typeof value !== "number") continue;
	// Connect spells PermissionDenied; gRPC (and flagd's option docs) spell PERMISSION_DENIED.
	BY_NAME.set(name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(), value);
	BY_NAME.set(name.toUpperCase(), value);
	BY_NAME.set(String(value), value);
}

/**
 * Parses gRPC status code names as used by flagd's `fatalStatusCodes` (`PERMISSION_DENIED`, also
 * `PermissionDenied` or the number `7`), case-insensitively. Unknown names are returned so the caller can warn.
 */
export function parseStatusCodeNames(
	names: readonly string[],
): ParsedStatusCodes {
	const codes = new Set<Code>();
	const unknown: string[] = [];
	for (const raw of names) {
		const code = BY_NAME.get(raw.trim().toUpperCase());
		if (code === undefined) unknown.push(raw);
		else codes.add(code);
	}
	return { codes, unknown };
}
