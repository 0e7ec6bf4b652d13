/**
 * CORS for the browser-facing ports (8013, 8016), as flagd configures rs/cors: an allow-list of origins (empty =
 * every origin, answered with `Access-Control-Allow-Origin: *`; a listed origin is echoed), any request header,
 * never credentials, and the Connect/gRPC-web response headers (and ETag) exposed so browser clients can read
 * status, trailers and the OFREP ETag.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

const EXPOSED_HEADERS = [
	"Accept",
	"Accept-Encoding",
	"Accept-Post",
	"Connect-Accept-Encoding",
	"Connect-Content-Encoding",
	"Content-Encoding",
	// Not safelisted: without it a browser cannot read the OFREP ETag to send If-None-Match.
	"ETag",
	"Grpc-Accept-Encoding",
	"Grpc-Encoding",
	"Grpc-Message",
	"Grpc-Status",
	"Grpc-Status-Details-Bin",
].join(", ");
const ALLOWED_METHODS = "HEAD, GET, POST, PUT, PATCH, DELETE";
const MAX_AGE_SECONDS = "7200";

/** Decides and writes CORS headers for one request. */
export class CorsPolicy {
	readonly #allowAll: boolean;
	readonly #origins: ReadonlySet<string>;

	/** `origins` empty or containing `*` allows every origin (flagd's default). */
	constructor(origins: readonly string[]) {
		this.#allowAll = origins.length === 0 || origins.includes("*");
		this.#origins = new Set(origins);
	}

	/**
	 * Adds CORS headers when the request has an allowed Origin. Returns true when the request was a preflight and
	 * has been answered (204), so the caller stops.
	 */
	handle(
		req: IncomingMessage | Http2ServerRequest,
		res: ServerResponse | Http2ServerResponse,
	): boolean {
		const origin = req.headers.origin;
		if (origin === undefined) return false;
		const preflight =
			req.method === "OPTIONS" &&
			req.headers["access-control-request-method"] !== undefined;
		if (!this.#allowAll && !this.#origins.has(origin)) {
			if (preflight) {
				res.writeHead(204, { Vary: "Origin" });
				res.end();
			}
			return preflight;
		}
		res.setHeader("Access-Control-Allow-Origin", this.#allowAll ? "*" : origin);
		res.setHeader("Vary", "Origin");
		if (!preflight) {
			res.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
			return false;
		}
		res.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS);
		const requested = req.headers["access-control-request-headers"];
		if (typeof requested === "string" && requested !== "") {
			res.setHeader("Access-Control-Allow-Headers", requested);
		}
		res.setHeader("Access-Control-Max-Age", MAX_AGE_SECONDS);
		res.writeHead(204);
		res.end();
		return true;
	}
}
