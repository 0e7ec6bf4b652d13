/**
 * flagd's `starts_with` / `ends_with`: exactly two string arguments (after evaluation), case-sensitive. Anything
 * else yields `null` (not `false`) so an enclosing `if` falls through to its else branch (flagd#1874).
 */
export function startsWith(args: unknown): boolean | null {
	if (!Array.isArray(args) || args.length !== 2) return null;
	const [text, prefix] = args as [unknown, unknown];
	if (typeof text !== "string" || typeof prefix !== "string") return null;
	return text.startsWith(prefix);
}

/** See {@link startsWith}; tests the suffix. */
export function endsWith(args: unknown): boolean | null {
	if (!Array.isArray(args) || args.length !== 2) return null;
	const [text, suffix] = args as [unknown, unknown];
	if (typeof text !== "string" || typeof suffix !== "string") return null;
	return text.endsWith(suffix);
}
