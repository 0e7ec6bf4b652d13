/**
 * Credentials in URIs never reach a log line or an API answer: a source URI like
 * `https://user:pass@flags.example/flags.json?token=abc` carries its secret in the userinfo or the query, and the
 * URI is also the source's id (logged with every line about it, sent as `source` in sync snapshots). Userinfo
 * becomes `[redacted]@` and every query value `[redacted]` (parameter names stay, to tell sources apart): which
 * query parameters are secret is the server's business, so none is trusted. No `node:` imports (the store uses it).
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

// A URI with an authority (`scheme://…`) up to whitespace, a quote, a backslash or an angle bracket, so it can be
// applied to JSON log lines without breaking them.
const URI_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>\\`]+/g;

/** `uri` with its userinfo and query values replaced; anything without them is returned unchanged. */
export function redactUri(uri: string): string {
	if (!uri.includes("@") && !uri.includes("?")) return uri;
	return uri.replace(URI_IN_TEXT, redactOne);
}

/** Every `scheme://…` URI inside `text` redacted as {@link redactUri} does (for whole log lines and messages). */
export function redactUrisInText(text: string): string {
	if (!text.includes("://")) return text;
	return text.replace(URI_IN_TEXT, redactOne);
}

function redactOne(uri: string): string {
	const hash = uri.indexOf("#");
	const beforeHash = hash === -1 ? uri : uri.slice(0, hash);
	const fragment = hash === -1 ? "" : uri.slice(hash);
	const question = beforeHash.indexOf("?");
	let base = question === -1 ? beforeHash : beforeHash.slice(0, question);
	const query = question === -1 ? undefined : beforeHash.slice(question + 1);
	const authorityStart = base.indexOf("://") + 3;
	const pathStart = base.indexOf("/", authorityStart);
	const authorityEnd = pathStart === -1 ? base.length : pathStart;
	const at = base.lastIndexOf("@", authorityEnd - 1);
	if (at >= authorityStart)
		base = `${base.slice(0, authorityStart)}${REDACTED}${base.slice(at)}`;
	if (query === undefined) return `${base}${fragment}`;
	const params = query
		.split("&")
		.map((param) => {
			if (param === "") return param;
			const eq = param.indexOf("=");
			return eq === -1 ? REDACTED : `${param.slice(0, eq + 1)}${REDACTED}`;
		})
		.join("&");
	return `${base}?${params}${fragment}`;
}
