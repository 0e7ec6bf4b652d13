/** What every port's handler is: a function of a request and a response of either HTTP version. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { StreamRequest } from "./stream-request.js";

/** A request of either HTTP version, as the listeners hand it to handlers. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A response of either HTTP version. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * Serves an HTTP/2 request from its stream and returns true, or returns false without touching it (it then reaches
 * the handler as a compatibility request; http2-stream-server.ts).
 */
export type StreamPath = (req: StreamRequest) => boolean;

export type RequestHandler = ((req: NodeRequest, res: NodeResponse) => void) & {
	/** Offered every HTTP/2 request first, before node:http2's compatibility objects are built. @default none */
	readonly http2Stream?: StreamPath | undefined;
};
