/**
 * What both direct unary paths work from: the methods they may serve (those a service declared synchronous when it
 * registered, service-route.ts), each with connect's own serialization for it, and the options of the connect
 * handler they sit in front of.
 */
import type {
	DescMessage,
	DescMethodUnary,
	JsonReadOptions,
	JsonWriteOptions,
} from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
	type Compression,
	createMethodSerializationLookup,
	type MethodSerializationLookup,
} from "@connectrpc/connect/protocol";
import type { NodeRequest, NodeResponse } from "../http-listener.js";
import type { ServiceRoute } from "../service-route.js";

/** The serializations connect uses for one method: binary (protobuf-es toBinary/fromBinary) and JSON. */
export type MethodSerialization = MethodSerializationLookup<
	DescMessage,
	DescMessage
>;

/** A unary method, its synchronous implementation and its serialization. */
export interface DirectRoute {
	readonly method: DescMethodUnary;
	readonly impl: (request: never, context: HandlerContext) => unknown;
	readonly serialization: MethodSerialization;
}

/** What a direct path needs from the connect handler it sits in front of. */
export interface DirectPathOptions {
	/** Request path (`/flagd.evaluation.v2.Service/ResolveBoolean`) → route. */
	readonly routes: ReadonlyMap<string, DirectRoute>;
	readonly readMaxBytes: number;
	readonly acceptCompression: readonly Compression[];
	/** connect's compressMinBytes (its default is 1,024): smaller responses are never compressed. */
	readonly compressMinBytes: number;
	/** Hands a request to the connect handler; `body` holds what was read, `rest` whether more is to come. */
	readonly fallback: (
		req: NodeRequest,
		res: NodeResponse,
		body: readonly Buffer[],
		rest: boolean,
	) => void;
	/** Reports a failure writing the answer (the connect path logs the same way). */
	readonly onError: (err: unknown, path: string) => void;
}

/**
 * The direct routes of some services: every method a service declared synchronous, with the serialization connect
 * builds for it from the same JSON options and read limit.
 */
export function directRoutes(
	services: readonly ServiceRoute[],
	jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined,
	readMaxBytes: number,
): Map<string, DirectRoute> {
	const routes = new Map<string, DirectRoute>();
	for (const { service, impl, synchronous } of services) {
		for (const method of service.methods) {
			if (method.methodKind !== "unary" || !synchronous.has(method.localName))
				continue;
			const fn = impl[method.localName as keyof typeof impl] as unknown as (
				request: never,
				context: HandlerContext,
			) => unknown;
			routes.set(`/${service.typeName}/${method.name}`, {
				method: method as DescMethodUnary,
				impl: fn.bind(impl),
				serialization: createMethodSerializationLookup(
					method,
					undefined,
					jsonOptions,
					{ readMaxBytes, writeMaxBytes: 0xffffffff },
				),
			});
		}
	}
	return routes;
}
