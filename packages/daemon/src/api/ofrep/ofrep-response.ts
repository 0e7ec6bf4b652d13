/**
 * Writing OFREP responses: JSON items and texts with flagd's status codes, and encoded answers (ofrep-answers.ts)
 * with their ETag and `If-None-Match` → 304 handling.
 */
import type { ServerResponse } from "node:http";
import type { NodeResponse } from "../../transport/http-listener.js";
import type { OfrepItem } from "./ofrep-render.js";

/** An encoded response, rendered once and written as often as it is asked for. */
export interface EncodedResponse {
	readonly status: number;
	/**
	 * Header names and values, flat (`[name, value, name, value, …]`, as writeHead takes them): Content-Type,
	 * Content-Length (and ETag). Reused, never modified. Flat because node:http walks a header object with `for…in`
	 * and an own-property check per key, for every answer it writes.
	 */
	readonly headers: readonly string[];
	readonly body: string;
	/** Bulk responses only; then `headers` holds it too. */
	readonly etag: string | undefined;
}

/** Writes an encoded response; 304 without a body when `ifNoneMatch` matches its ETag. */
export function sendEncoded(
	res: NodeResponse,
	answer: EncodedResponse,
	ifNoneMatch: string | undefined,
): void {
	if (answer.etag !== undefined && matchesEtag(ifNoneMatch, answer.etag)) {
		res.writeHead(304, { ETag: answer.etag });
		res.end();
		return;
	}
	// writeHead reads the array and neither keeps nor changes it. node:http2's compatibility response takes the same
	// flat array (Http2ServerResponse.writeHead in Node 20), which its type declaration leaves out.
	(res as ServerResponse).writeHead(answer.status, answer.headers as string[]);
	res.end(answer.body);
}

function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
	if (ifNoneMatch === undefined) return false;
	return ifNoneMatch.split(",").some((tag) => {
		const t = tag.trim();
		return t === "*" || t === etag || t === `W/${etag}`;
	});
}

export function sendItem(res: NodeResponse, item: OfrepItem): void {
	sendJson(res, item.status, item.body);
}

/** A JSON body. A response to a request whose body is left unread (413) closes the connection: the listener's doing. */
export function sendJson(
	res: NodeResponse,
	status: number,
	body: unknown,
): void {
	res.writeHead(status, { "Content-Type": "application/json" });
	res.end(JSON.stringify(body));
}

export function sendText(
	res: NodeResponse,
	status: number,
	text: string,
): void {
	res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
	res.end(text);
}
