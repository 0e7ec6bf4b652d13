/**
 * The direct unary paths, behind one switch (connect-handler.ts's `directUnaryPaths`): a plain unary call to a method
 * its service declared synchronous is answered here, gRPC by grpc-unary-direct-path.ts and the Connect protocol by
 * connect-unary-direct-path.ts, without connect's generic per-call pipeline; anything else stays with connect. The
 * tests beside these files send every request to a handler with and one without the direct paths and compare the
 * bytes.
 */
import type { JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import { createConnectUnaryDirectPath } from "./connect-unary-direct-path.js";
import type { DirectRequest, DirectResponse } from "./direct-request.js";
import {
	type DirectPathOptions,
	type DirectRoute,
	serializedRoutes,
} from "./direct-route.js";
import { createGrpcUnaryDirectPath } from "./grpc-unary-direct-path.js";

/** Answers the request and returns true, or returns false without touching it. */
export type DirectUnaryPath = (
	req: DirectRequest,
	res: DirectResponse,
	path: string,
) => boolean;

export interface DirectUnaryPathsOptions
	extends Omit<DirectPathOptions, "routes"> {
	/** Request path → the synchronous method and its implementation. */
	readonly routes: ReadonlyMap<string, DirectRoute>;
	/** Whether the router serves gRPC (then so does the gRPC direct path). */
	readonly grpc: boolean;
	/** Whether the router serves the Connect protocol (then so does the Connect direct path). */
	readonly connect: boolean;
	/** The router's requireConnectProtocolHeader. */
	readonly requireProtocolVersion: boolean;
	/** The router's JSON options (connect parses and serializes with them). */
	readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined;
}

/** See the file comment; undefined when there is nothing to serve directly. */
export function createDirectUnaryPaths(
	options: DirectUnaryPathsOptions,
): DirectUnaryPath | undefined {
	if (options.routes.size === 0) return undefined;
	const common: DirectPathOptions = {
		...options,
		routes: serializedRoutes(
			options.routes,
			options.jsonOptions,
			options.readMaxBytes,
		),
	};
	const grpc = options.grpc ? createGrpcUnaryDirectPath(common) : undefined;
	const connect = options.connect
		? createConnectUnaryDirectPath({
				...common,
				requireProtocolVersion: options.requireProtocolVersion,
				jsonOptions: options.jsonOptions,
			})
		: undefined;
	if (grpc === undefined && connect === undefined) return undefined;
	return (req, res, path) =>
		grpc?.(req, res, path) === true || connect?.(req, res, path) === true;
}
