/** What every port's handler is: a function of a request and a response of either HTTP version. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/** A request of either HTTP version, as the listeners hand it to handlers. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A response of either HTTP version. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

export type RequestHandler = (req: NodeRequest, res: NodeResponse) => void;
