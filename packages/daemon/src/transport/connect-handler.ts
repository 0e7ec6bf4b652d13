/**
 * A Node request handler around a Connect router. It does what `connectNodeAdapter` does, except for failures:
 * connect-node prints every failed response write with console.error, which includes each client that simply
 * disconnects from a stream. Here a write to a closed response is expected and ignored; anything else goes to the
 * daemon's logger with the RPC's name. Plain unary calls to methods a service declared synchronous take a direct
 * path (direct-path/), which hands anything unusual back to the router.
 */
import {
	Code,
	ConnectError,
	type ConnectRouterOptions,
	createConnectRouter,
} from "@connectrpc/connect";
import type {
	UniversalHandler,
	UniversalServerRequest,
} from "@connectrpc/connect/protocol";
import {
	compressionBrotli,
	compressionGzip,
	universalRequestFromNodeRequest,
	universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../logging/logger.js";
import { createDirectUnaryPaths } from "./direct-path/direct-unary-paths.js";
import type { RequestHandler } from "./http-listener.js";
import type { ServiceRoute } from "./service-route.js";

export interface ConnectHandlerOptions extends ConnectRouterOptions {
	readonly services: readonly ServiceRoute[];
	readonly logger: Logger;
	/** Serve plain unary calls to synchronous methods on the direct paths (direct-path/). @default true */
	readonly directUnaryPaths?: boolean;
}

/** connect's default: smaller messages are never compressed. */
const COMPRESS_MIN_BYTES = 1024;

/** See the file comment. */
export function createConnectHandler(
	options: ConnectHandlerOptions,
): RequestHandler {
	const {
		services,
		logger,
		directUnaryPaths = true,
		...routerOptions
	} = options;
	const acceptCompression = routerOptions.acceptCompression ?? [
		compressionGzip,
		compressionBrotli,
	];
	const router = createConnectRouter({ ...routerOptions, acceptCompression });
	for (const { service, impl } of services) router.service(service, impl);
	const byPath = new Map<string, UniversalHandler>();
	for (const handler of router.handlers)
		byPath.set(handler.requestPath, handler);

	const reportFailure = (reason: unknown, rpc: string): void => {
		logger.error(
			{ err: reason, rpc },
			`RPC ${rpc} failed: ${ConnectError.from(reason).message}`,
		);
	};
	const serve = (
		handler: UniversalHandler,
		universal: UniversalServerRequest,
		res: Parameters<RequestHandler>[1],
	): void => {
		handler(universal)
			.then((response) => universalResponseToNodeResponse(response, res))
			.catch((reason: unknown) => {
				if (res.destroyed || ConnectError.from(reason).code === Code.Aborted)
					return;
				reportFailure(reason, handler.requestPath);
			});
	};
	const fallback = (
		req: Parameters<RequestHandler>[0],
		res: Parameters<RequestHandler>[1],
		body: readonly Buffer[],
		rest: boolean,
	): void => {
		const handler = byPath.get(pathOf(req.url)) as UniversalHandler;
		const universal = universalRequestFromNodeRequest(
			req,
			res,
			undefined,
			undefined,
		);
		serve(
			handler,
			{ ...universal, body: replay(body, rest ? req : undefined) },
			res,
		);
	};
	const direct = directUnaryPaths
		? createDirectUnaryPaths({
				services,
				routerOptions,
				acceptCompression,
				compressMinBytes: routerOptions.compressMinBytes ?? COMPRESS_MIN_BYTES,
				fallback,
				onError: reportFailure,
			})
		: undefined;
	return (req, res) => {
		const path = pathOf(req.url);
		const handler = byPath.get(path);
		if (handler === undefined) {
			res.writeHead(404);
			res.end();
			return;
		}
		if (direct?.(req, res, path) === true) return;
		serve(
			handler,
			universalRequestFromNodeRequest(req, res, undefined, undefined),
			res,
		);
	};
}

function pathOf(url: string | undefined): string {
	const u = url ?? "";
	const query = u.indexOf("?");
	return query < 0 ? u : u.slice(0, query);
}

/** The body bytes the direct path already read, then whatever the request still has to give. */
async function* replay(
	read: readonly Buffer[],
	rest: AsyncIterable<Buffer> | undefined,
): AsyncIterable<Uint8Array> {
	for (const chunk of read) yield chunk;
	if (rest !== undefined) for await (const chunk of rest) yield chunk;
}
