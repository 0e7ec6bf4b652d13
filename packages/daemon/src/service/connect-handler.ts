/**
 * A Node request handler around a Connect router. It does what `connectNodeAdapter` does, except for failures:
 * connect-node prints every failed response write with console.error, which includes each client that simply
 * disconnects from a stream. Here a write to a closed response is expected and ignored; anything else goes to the
 * daemon's logger with the RPC's name. Plain unary calls take a direct path (grpc-unary-fast-path.ts for gRPC,
 * connect-unary-fast-path.ts for the Connect protocol), which hands anything unusual back to the router. A request
 * message that is not valid protobuf is answered INVALID_ARGUMENT (parse-error-status.ts), and server streams can
 * be capped (stream-limiter.ts).
 */
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type ConnectRouterOptions,
	createConnectRouter,
	type ServiceImpl,
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
import type { Logger } from "../logger.js";
import { createConnectUnaryFastPath } from "./connect-unary-fast-path.js";
import {
	createGrpcUnaryFastPath,
	type UnaryRoute,
} from "./grpc-unary-fast-path.js";
import type { RequestHandler } from "./http-listener.js";
import { parseErrorAsInvalidArgument } from "./parse-error-status.js";
import { limitServerStreams, type StreamLimiter } from "./stream-limiter.js";

/** One service and its implementation; build with {@link serviceRoute} to keep the two types tied. */
export interface ServiceRoute {
	readonly service: DescService;
	readonly impl: Partial<ServiceImpl<DescService>>;
}

/** Pairs a service descriptor with its implementation. */
export function serviceRoute<S extends DescService>(
	service: S,
	impl: Partial<ServiceImpl<S>>,
): ServiceRoute {
	return { service, impl: impl as Partial<ServiceImpl<DescService>> };
}

export interface ConnectHandlerOptions extends ConnectRouterOptions {
	readonly services: readonly ServiceRoute[];
	readonly logger: Logger;
	/** Serve plain unary gRPC and Connect calls directly (the *-unary-fast-path.ts files). @default true */
	readonly grpcUnaryFastPath?: boolean;
	/** Caps the server streams of every service here, together. @default no cap */
	readonly streamLimiter?: StreamLimiter | undefined;
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
		grpcUnaryFastPath = true,
		streamLimiter,
		...routerOptions
	} = options;
	const acceptCompression = routerOptions.acceptCompression ?? [
		compressionGzip,
		compressionBrotli,
	];
	const router = createConnectRouter({ ...routerOptions, acceptCompression });
	const unaryRoutes = new Map<string, UnaryRoute>();
	for (const route of services) {
		const { service } = route;
		const impl =
			streamLimiter === undefined
				? route.impl
				: limitServerStreams(service, route.impl, streamLimiter);
		router.service(service, impl);
		for (const method of service.methods) {
			const fn = impl[method.localName as keyof typeof impl];
			// An async implementation may wait on ctx.signal (FetchAllFlags waits for readiness), which connect
			// aborts at the call's deadline or disconnect; the fast path's context has neither, so it keeps
			// only synchronous implementations.
			if (
				method.methodKind === "unary" &&
				typeof fn === "function" &&
				Object.prototype.toString.call(fn) !== "[object AsyncFunction]"
			) {
				unaryRoutes.set(`/${service.typeName}/${method.name}`, {
					method: method as DescMethodUnary,
					impl: (fn as UnaryRoute["impl"]).bind(impl),
				});
			}
		}
	}
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
			.then(parseErrorAsInvalidArgument)
			.then((response) => universalResponseToNodeResponse(response, res))
			.catch((reason: unknown) => {
				if (res.destroyed || ConnectError.from(reason).code === Code.Aborted)
					return;
				reportFailure(reason, handler.requestPath);
			});
	};
	// The fast path implements none of these router options; with any of them set, connect serves every call.
	const unsupportedOption =
		(routerOptions.interceptors?.length ?? 0) > 0 ||
		routerOptions.binaryOptions !== undefined ||
		routerOptions.writeMaxBytes !== undefined ||
		routerOptions.maxTimeoutMs !== undefined ||
		routerOptions.shutdownSignal !== undefined;
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
	const direct = grpcUnaryFastPath && !unsupportedOption;
	// What both direct paths share: the routes, the router's limits and compressions, and the way back to connect.
	const common = {
		routes: unaryRoutes,
		readMaxBytes: routerOptions.readMaxBytes ?? 0xffffffff,
		acceptCompression,
		compressMinBytes: routerOptions.compressMinBytes ?? COMPRESS_MIN_BYTES,
		fallback,
		onError: reportFailure,
	};
	const connectFastPath =
		routerOptions.connect === false || !direct
			? undefined
			: createConnectUnaryFastPath({
					...common,
					requireProtocolVersion:
						routerOptions.requireConnectProtocolHeader === true,
					jsonOptions: routerOptions.jsonOptions,
				});
	const fastPath =
		routerOptions.grpc === false || !direct
			? undefined
			: createGrpcUnaryFastPath(common);
	return (req, res) => {
		const path = pathOf(req.url);
		const handler = byPath.get(path);
		if (handler === undefined) {
			res.writeHead(404);
			res.end();
			return;
		}
		if (fastPath?.(req, res, path) === true) return;
		if (connectFastPath?.(req, res, path) === true) return;
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

/** The body bytes the fast path already read, then whatever the request still has to give. */
async function* replay(
	read: readonly Buffer[],
	rest: AsyncIterable<Buffer> | undefined,
): AsyncIterable<Uint8Array> {
	for (const chunk of read) yield chunk;
	if (rest !== undefined) for await (const chunk of rest) yield chunk;
}
