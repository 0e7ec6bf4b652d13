/**
 * A Node request handler around a Connect router. It does what `connectNodeAdapter` does, except for failures:
 * connect-node prints every failed response write with console.error, which includes each client that simply
 * disconnects from a stream. Here a write to a closed response is expected and ignored; anything else goes to the
 * daemon's logger with the RPC's name.
 */
import {
	Code,
	ConnectError,
	type ConnectRouter,
	type ConnectRouterOptions,
	createConnectRouter,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
	compressionBrotli,
	compressionGzip,
	universalRequestFromNodeRequest,
	universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import type { RequestHandler } from "./http-listener.js";

export interface ConnectHandlerOptions extends ConnectRouterOptions {
	readonly routes: (router: ConnectRouter) => void;
	readonly logger: Logger;
}

/** See the file comment. */
export function createConnectHandler(
	options: ConnectHandlerOptions,
): RequestHandler {
	const { routes, logger, ...routerOptions } = options;
	const router = createConnectRouter({
		acceptCompression: [compressionGzip, compressionBrotli],
		...routerOptions,
	});
	routes(router);
	const byPath = new Map<string, UniversalHandler>();
	for (const handler of router.handlers)
		byPath.set(handler.requestPath, handler);
	return (req, res) => {
		const url = req.url ?? "";
		const query = url.indexOf("?");
		const handler = byPath.get(query < 0 ? url : url.slice(0, query));
		if (handler === undefined) {
			res.writeHead(404);
			res.end();
			return;
		}
		const universal = universalRequestFromNodeRequest(
			req,
			res,
			undefined,
			undefined,
		);
		handler(universal)
			.then((response) => universalResponseToNodeResponse(response, res))
			.catch((reason: unknown) => {
				if (res.destroyed || ConnectError.from(reason).code === Code.Aborted)
					return;
				logger.error(
					{ err: reason, rpc: handler.requestPath },
					`RPC ${handler.requestPath} failed: ${ConnectError.from(reason).message}`,
				);
			});
	};
}
