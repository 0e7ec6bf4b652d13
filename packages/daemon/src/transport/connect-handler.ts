/**
 * A Node request handler around a Connect router. It does what `connectNodeAdapter` does, except for failures:
 * connect-node prints every failed response write with console.error, which includes each client that simply
 * disconnects from a stream. Here a write to a closed response is expected and ignored; anything else goes to the
 * daemon's logger with the RPC's name. Plain unary calls to the methods a service declared synchronous take a direct
 * path (direct-path/: gRPC and the Connect protocol), and plain server-streaming calls to methods with a direct
 * stream implementation take the direct streaming path (direct-path/direct-stream-path.ts: gRPC, gRPC-web, Connect);
 * both hand anything unusual back to the router. A request
 * message that is not valid protobuf is answered INVALID_ARGUMENT (parse-error-status.ts), and server streams can
 * be capped (stream-limiter.ts).
 */
import type {
	DescMethodServerStreaming,
	DescMethodUnary,
	DescService,
} from "@bufbuild/protobuf";
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
import type { Logger } from "../logging/logger.js";
import type { DirectAnswerCache } from "./direct-path/direct-answer-cache.js";
import type {
	DirectRequest,
	DirectResponse,
} from "./direct-path/direct-request.js";
import {
	type DirectRoute,
	serializedRoutes,
} from "./direct-path/direct-route.js";
import type { DirectStreamImpl } from "./direct-path/direct-server-stream.js";
import { createDirectStreamPath } from "./direct-path/direct-stream-path.js";
import { createDirectUnaryPaths } from "./direct-path/direct-unary-paths.js";
import type {
	NodeRequest,
	NodeResponse,
	RequestHandler,
} from "./http-listener.js";
import { parseErrorAsInvalidArgument } from "./parse-error-status.js";
import { limitServerStreams, type StreamLimiter } from "./stream-limiter.js";
import { StreamRequest } from "./stream-request.js";

/**
 * One service and its implementation; build with {@link serviceRoute} to keep the two types tied. `synchronous`
 * holds the local names of the unary methods whose implementation returns its answer, not a Promise: only those
 * take a direct path, which gives an implementation no deadline timer and awaits nothing it might wait for
 * (FetchAllFlags waits on `ctx.signal` for readiness).
 */
export interface ServiceRoute {
	readonly service: DescService;
	readonly impl: Partial<ServiceImpl<DescService>>;
	readonly synchronous: ReadonlySet<string>;
	/** Server-streaming methods (local names) with an implementation for the direct streaming path. */
	readonly directStreams: ReadonlyMap<string, DirectStreamImpl>;
}

export interface ServiceRouteOptions<S extends DescService> {
	/**
	 * Unary methods (local names, e.g. `resolveBoolean`) that return their answer without awaiting anything: the
	 * direct unary paths serve them. Everything else is served by connect. @default none
	 */
	readonly synchronous?: readonly (keyof ServiceImpl<S> & string)[];
	/**
	 * Server-streaming methods also implemented for the direct streaming path (direct-path/direct-stream-path.ts):
	 * plain calls take it, anything else stays with connect and `impl`. @default none
	 */
	readonly directStreams?: Partial<
		Record<keyof ServiceImpl<S> & string, DirectStreamImpl>
	>;
}

/**
 * Pairs a service descriptor with its implementation and the methods it declares synchronous. Throws when a declared
 * method is not a unary method of the service with an implementation (a programming error, caught at start-up).
 */
export function serviceRoute<S extends DescService>(
	service: S,
	impl: Partial<ServiceImpl<S>>,
	options: ServiceRouteOptions<S> = {},
): ServiceRoute {
	const synchronous = new Set<string>(options.synchronous ?? []);
	for (const name of synchronous) {
		const method = service.methods.find((m) => m.localName === name);
		const fn = (impl as Record<string, unknown>)[name];
		if (method?.methodKind !== "unary" || typeof fn !== "function") {
			throw new Error(
				`serviceRoute(${service.typeName}): "${name}" is declared synchronous but is not an implemented unary method`,
			);
		}
	}
	const directStreams = new Map<string, DirectStreamImpl>();
	for (const [name, fn] of Object.entries(options.directStreams ?? {})) {
		const method = service.methods.find((m) => m.localName === name);
		if (method?.methodKind !== "server_streaming" || fn === undefined) {
			throw new Error(
				`serviceRoute(${service.typeName}): "${name}" has a direct stream implementation but is not a server-streaming method`,
			);
		}
		directStreams.set(name, fn as DirectStreamImpl);
	}
	return {
		service,
		impl: impl as Partial<ServiceImpl<DescService>>,
		synchronous,
		directStreams,
	};
}

export interface ConnectHandlerOptions extends ConnectRouterOptions {
	readonly services: readonly ServiceRoute[];
	readonly logger: Logger;
	/** Serve plain unary calls to synchronous methods on the direct paths (direct-path/). @default true */
	readonly directUnaryPaths?: boolean;
	/** Caps the server streams of every service here, together. @default no cap */
	readonly streamLimiter?: StreamLimiter | undefined;
	/** Keeps and replays the direct unary paths' answers (direct-path/direct-answer-cache.ts). @default none */
	readonly answerCache?: DirectAnswerCache | undefined;
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
		streamLimiter,
		answerCache,
		...routerOptions
	} = options;
	const acceptCompression = routerOptions.acceptCompression ?? [
		compressionGzip,
		compressionBrotli,
	];
	const router = createConnectRouter({ ...routerOptions, acceptCompression });
	const unaryRoutes = new Map<string, DirectRoute>();
	const streamRoutes = new Map<
		string,
		{ method: DescMethodServerStreaming; impl: DirectStreamImpl }
	>();
	for (const route of services) {
		const { service, synchronous } = route;
		for (const [name, impl] of route.directStreams) {
			const method = service.methods.find((m) => m.localName === name);
			if (method?.methodKind === "server_streaming")
				streamRoutes.set(`/${service.typeName}/${method.name}`, {
					method: method as DescMethodServerStreaming,
					impl,
				});
		}
		const impl =
			streamLimiter === undefined
				? route.impl
				: limitServerStreams(service, route.impl, streamLimiter);
		router.service(service, impl);
		for (const method of service.methods) {
			const fn = impl[method.localName as keyof typeof impl];
			// Only what the service declared synchronous (serviceRoute): an async implementation may wait on
			// ctx.signal, which connect aborts at the call's deadline or disconnect; the direct path's context has
			// neither.
			if (
				method.methodKind === "unary" &&
				typeof fn === "function" &&
				synchronous.has(method.localName)
			) {
				unaryRoutes.set(`/${service.typeName}/${method.name}`, {
					method: method as DescMethodUnary,
					impl: (fn as DirectRoute["impl"]).bind(impl),
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
		res: NodeResponse,
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
	// The direct paths implement none of these router options; with any of them set, connect serves every call.
	const unsupportedOption =
		(routerOptions.interceptors?.length ?? 0) > 0 ||
		routerOptions.binaryOptions !== undefined ||
		routerOptions.writeMaxBytes !== undefined ||
		routerOptions.maxTimeoutMs !== undefined ||
		routerOptions.shutdownSignal !== undefined;
	const fallback = (
		directReq: DirectRequest,
		directRes: DirectResponse,
		body: readonly Buffer[],
		rest: boolean,
	): void => {
		// The direct paths hand back what they were given: node's request and response, or a stream's views. A
		// stream the client has reset (its body read failed with the reset) has nobody left to answer, and a
		// compatibility pair built now would never hear that it closed.
		let req: NodeRequest;
		let res: NodeResponse;
		if (directReq instanceof StreamRequest) {
			if (directRes.destroyed) return;
			[req, res] = directReq.compat();
		} else {
			req = directReq as NodeRequest;
			res = directRes as NodeResponse;
		}
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
	const direct = directUnaryPaths && !unsupportedOption;
	// What both direct paths share: the routes, the router's limits and compressions, and the way back to connect.
	const common = {
		routes: unaryRoutes,
		readMaxBytes: routerOptions.readMaxBytes ?? 0xffffffff,
		acceptCompression,
		compressMinBytes: routerOptions.compressMinBytes ?? COMPRESS_MIN_BYTES,
		fallback,
		onError: reportFailure,
		answers: answerCache,
	};
	const directPath = !direct
		? undefined
		: createDirectUnaryPaths({
				...common,
				grpc: routerOptions.grpc !== false,
				connect: routerOptions.connect !== false,
				requireProtocolVersion:
					routerOptions.requireConnectProtocolHeader === true,
				jsonOptions: routerOptions.jsonOptions,
			});
	const streamPath =
		!direct || streamRoutes.size === 0
			? undefined
			: createDirectStreamPath({
					...common,
					routes: serializedRoutes(
						streamRoutes,
						routerOptions.jsonOptions,
						common.readMaxBytes,
					),
					grpc: routerOptions.grpc !== false,
					grpcWeb: routerOptions.grpcWeb !== false,
					connect: routerOptions.connect !== false,
					requireProtocolVersion:
						routerOptions.requireConnectProtocolHeader === true,
					jsonOptions: routerOptions.jsonOptions,
					limiter: streamLimiter,
				});
	const handle = (req: NodeRequest, res: NodeResponse): void => {
		const path = pathOf(req.url);
		const handler = byPath.get(path);
		if (handler === undefined) {
			res.writeHead(404);
			res.end();
			return;
		}
		if (directPath?.(req, res, path) === true) return;
		if (streamPath?.(req, res, path) === true) return;
		serve(
			handler,
			universalRequestFromNodeRequest(req, res, undefined, undefined),
			res,
		);
	};
	if (directPath === undefined) return handle;
	// HTTP/2 unary calls on the direct paths are served from the stream (stream-request.ts).
	const http2Stream = (req: StreamRequest): boolean => {
		const path = pathOf(req.url);
		return unaryRoutes.has(path) && directPath(req, req.response, path);
	};
	return Object.assign(handle, { http2Stream });
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
