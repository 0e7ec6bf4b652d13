/**
 * How a bulk evaluation response advertises the OFREP event stream for its selector (ADR-0008), in both spellings
 * clients read.
 */
import type { Selector } from "../../store/selector.js";
import type { NodeRequest } from "../../transport/http-listener.js";

/** Path of the event stream on the OFREP port (as Go flagd serves it). */
export const OFREP_SSE_PATH = "/ofrep/v1/sse";

/** One advertised connection, in both spellings clients read (see `advertiseOfrepStream`). */
export interface OfrepStreamAdvertisement {
	readonly eventStreams: readonly Record<string, unknown>[];
	readonly refreshConnections?: readonly Record<string, unknown>[];
}

export interface OfrepStreamAdvertisementOptions {
	/** Advertised; 0 = keep the stream open. */
	readonly inactivityDelaySec: number;
	/** Origin in advertised URLs (`--ofrep-sse-public-url`); otherwise taken from the request. */
	readonly publicUrl?: string | undefined;
}

/**
 * `eventStreams` with an `endpoint` relative to the OFREP base URL (what @openfeature/ofrep-web-provider 0.4 and
 * Go flagd read) and ADR-0008's `refreshConnections` with an absolute `url` (left out when the request names no
 * host).
 */
export function advertiseOfrepStream(
	req: NodeRequest,
	selector: Selector,
	options: OfrepStreamAdvertisementOptions,
): OfrepStreamAdvertisement {
	const requestUri =
		selector.kind === "all"
			? OFREP_SSE_PATH
			: `${OFREP_SSE_PATH}?selector=${encodeURIComponent(selector.key)}`;
	// 0 means "keep the stream open", which ADR-0008 spells as leaving the field out (0.4 providers would
	// otherwise close the stream as soon as the tab is hidden).
	const delay = options.inactivityDelaySec;
	const inactivity = delay > 0 ? { inactivityDelaySec: delay } : {};
	const { publicUrl } = options;
	const endpoint =
		publicUrl === undefined
			? { requestUri }
			: { origin: publicUrl, requestUri };
	const eventStreams = [{ type: "sse", endpoint, ...inactivity }];
	const origin = publicUrl ?? requestOrigin(req);
	if (origin === undefined) return { eventStreams };
	return {
		eventStreams,
		refreshConnections: [
			{ type: "sse", url: `${origin}${requestUri}`, ...inactivity },
		],
	};
}

/** `scheme://host` of the request as the client addressed it, or undefined without a usable Host. */
function requestOrigin(req: NodeRequest): string | undefined {
	const host = req.headers[":authority"] ?? req.headers.host;
	if (typeof host !== "string" || !/^[A-Za-z0-9.:[\]_-]+$/.test(host)) {
		return undefined;
	}
	const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
	return `${encrypted ? "https" : "http"}://${host}`;
}
