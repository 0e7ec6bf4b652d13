/**
 * The one switch for the direct unary paths: a plain unary call to a method its service declared synchronous
 * (service-route.ts) is answered here, gRPC by grpc-unary-direct-path.ts and the Connect protocol by
 * connect-unary-direct-path.ts, without connect's generic per-call pipeline; anything else stays with connect.
 * The tests beside these files send every request to a handler with and one without the direct paths and compare
 * the bytes.
 */
import type { ConnectRouterOptions } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "../http-listener.js";
import type { ServiceRoute } from "../service-route.js";
import { createConnectUnaryDirectPath } from "./connect-unary-direct-path.js";
import { type DirectPathOptions, directRoutes } from "./direct-route.js";
import { createGrpcUnaryDirectPath } from "./grpc-unary-direct-path.js";

/** Answers the request and returns true, or returns false without touching it. */
export type DirectUnaryPath = (
	req: NodeRequest,
	res: NodeResponse,
	path: string,
) => boolean;

export interface DirectUnaryPathsOptions
	extends Omit<DirectPathOptions, "routes" | "readMaxBytes"> {
	readonly services: readonly ServiceRoute[];
	/** The options of the connect router the direct paths sit in front of. */
	readonly routerOptions: ConnectRouterOptions;
}

/** connect's default read limit. */
const READ_MAX_BYTES = 0xffffffff;

/**
 * The direct paths in front of a connect router, or undefined when the router is configured with something they do
 * not implement (interceptors, binary options, a write limit, a maximum timeout, a shutdown signal) or no service
 * declared a synchronous method: then connect serves every call.
 */
export function createDirectUnaryPaths(
	options: DirectUnaryPathsOptions,
): DirectUnaryPath | undefined {
	const { routerOptions } = options;
	if (
		(routerOptions.interceptors?.length ?? 0) > 0 ||
		routerOptions.binaryOptions !== undefined ||
		routerOptions.writeMaxBytes !== undefined ||
		routerOptions.maxTimeoutMs !== undefined ||
		routerOptions.shutdownSignal !== undefined
	)
		return undefined;
	const readMaxBytes = routerOptions.readMaxBytes ?? READ_MAX_BYTES;
	const routes = directRoutes(
		options.services,
		routerOptions.jsonOptions,
		readMaxBytes,
	);
	if (routes.size === 0) return undefined;
	const common: DirectPathOptions = {
		routes,
		readMaxBytes,
		acceptCompression: options.acceptCompression,
		compressMinBytes: options.compressMinBytes,
		fallback: options.fallback,
		onError: options.onError,
	};
	const grpc =
		routerOptions.grpc === false
			? undefined
			: createGrpcUnaryDirectPath(common);
	const connect =
		routerOptions.connect === false
			? undefined
			: createConnectUnaryDirectPath({
					...common,
					requireProtocolVersion:
						routerOptions.requireConnectProtocolHeader === true,
					jsonOptions: routerOptions.jsonOptions,
				});
	return (req, res, path) =>
		grpc?.(req, res, path) === true || connect?.(req, res, path) === true;
}
