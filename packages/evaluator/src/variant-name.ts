/**
 * Maps a targeting result to a variant name, as flagd does: non-string results become their JSON text with all
 * `"` removed (`true` -> "true", `1` -> "1", `1.5` -> "1.5"). Deliberate difference: a string result is used
 * verbatim, where Go's JSON encoder would first escape `<`, `>`, `&`, `\` and `"` inside it and so make such a
 * variant unreachable (flagd-semantics.md §2; the JS flagd-core also uses the string as is).
 */
export function variantNameOf(result: unknown): string {
	if (typeof result === "string") return result;
	if (typeof result === "number" || typeof result === "boolean") {
		return String(result);
	}
	const json = JSON.stringify(result);
	return json === undefined ? "" : json.replaceAll('"', "");
}
