/**
 * The HPACK static table (RFC 7541 Appendix A) and the lookups the encoder needs. Index 0 is a placeholder so that
 * `STATIC_TABLE[i]` is the entry with HPACK index `i` (1..61).
 */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
	["", ""],
	[":authority", ""],
	[":method", "GET"],
	[":method", "POST"],
	[":path", "/"],
	[":path", "/index.html"],
	[":scheme", "http"],
	[":scheme", "https"],
	[":status", "200"],
	[":status", "204"],
	[":status", "206"],
	[":status", "304"],
	[":status", "400"],
	[":status", "404"],
	[":status", "500"],
	["accept-charset", ""],
	["accept-encoding", "gzip, deflate"],
	["accept-language", ""],
	["accept-ranges", ""],
	["accept", ""],
	["access-control-allow-origin", ""],
	["age", ""],
	["allow", ""],
	["authorization", ""],
	["cache-control", ""],
	["content-disposition", ""],
	["content-encoding", ""],
	["content-language", ""],
	["content-length", ""],
	["content-location", ""],
	["content-range", ""],
	["content-type", ""],
	["cookie", ""],
	["date", ""],
	["etag", ""],
	["expect", ""],
	["expires", ""],
	["from", ""],
	["host", ""],
	["if-match", ""],
	["if-modified-since", ""],
	["if-none-match", ""],
	["if-range", ""],
	["if-unmodified-since", ""],
	["last-modified", ""],
	["link", ""],
	["location", ""],
	["max-forwards", ""],
	["proxy-authenticate", ""],
	["proxy-authorization", ""],
	["range", ""],
	["referer", ""],
	["refresh", ""],
	["retry-after", ""],
	["server", ""],
	["set-cookie", ""],
	["strict-transport-security", ""],
	["transfer-encoding", ""],
	["user-agent", ""],
	["vary", ""],
	["via", ""],
	["www-authenticate", ""],
];

/** Number of entries in the static table; dynamic-table indices start right after it. */
export const STATIC_TABLE_LENGTH = 61;

function buildNameIndex(): ReadonlyMap<string, number> {
	const map = new Map<string, number>();
	for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
		const name = (STATIC_TABLE[i] as readonly [string, string])[0];
		// The lowest index for a name, as the RFC's own examples use (":status" → 8).
		if (!map.has(name)) map.set(name, i);
	}
	return map;
}

function buildFieldIndex(): ReadonlyMap<string, ReadonlyMap<string, number>> {
	const map = new Map<string, Map<string, number>>();
	for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
		const [name, value] = STATIC_TABLE[i] as readonly [string, string];
		let byValue = map.get(name);
		if (byValue === undefined) {
			byValue = new Map();
			map.set(name, byValue);
		}
		byValue.set(value, i);
	}
	return map;
}

/** Name → lowest static index with that name. */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = buildNameIndex();

/** Name → value → static index (full matches). */
export const STATIC_FIELD_INDEX: ReadonlyMap<
	string,
	ReadonlyMap<string, number>
> = buildFieldIndex();
