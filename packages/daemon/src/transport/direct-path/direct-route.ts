/**
 * What both direct unary paths work from: the methods they may serve (those a service declared synchronous when it
 * registered, see serviceRoute in connect-handler.ts), each with connect's own serialization for it, and the options
 * of the connect handler they sit in front of.
 */
import type {
	DescMessage,
	DescMethod,
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
import type { DirectAnswerCache } from "./direct-answer-cache.js";
import type { DirectRequest, DirectResponse } from "./direct-request.js";
import { prototypeSafeSerialization } from "./prototype-safe-json.js";

/** A unary method and its synchronous implementation, as registered on the router. */
export interface DirectRoute {
	readonly method: DescMethodUnary;
	readonly impl: (request: never, context: HandlerContext) => unknown;
}

/** The serializations connect uses for one method: binary (protobuf-es toBinary/fromBinary) and JSON. */
export type MethodSerialization = MethodSerializationLookup<
	DescMessage,
	DescMessage
>;

/** A {@link DirectRoute} with connect's serialization for its method. */
export interface SerializedRoute extends DirectRoute {
	readonly serialization: MethodSerialization;
}

/** What a direct path needs from the connect handler it sits in front of. */
export interface DirectPathOptions {
	/** Request path (`/flagd.evaluation.v2.Service/ResolveBoolean`) → route. */
	readonly routes: ReadonlyMap<string, SerializedRoute>;
	readonly readMaxBytes: number;
	readonly acceptCompression: readonly Compression[];
	/** connect's compressMinBytes (its default is 1,024): smaller responses are never compressed. */
	readonly compressMinBytes: number;
	/** Hands a request to the connect handler; `body` holds what was read, `rest` whether more is to come. */
	readonly fallback: (
		req: DirectRequest,
		res: DirectResponse,
		body: readonly Buffer[],
		rest: boolean,
	) => void;
	/** Reports a failure writing the answer (the connect path logs the same way). */
	readonly onError: (err: unknown, path: string) => void;
	/** Keeps and replays encoded answers (direct-answer-cache.ts). @default none */
	readonly answers?: DirectAnswerCache | undefined;
}

/**
 * The routes with connect's serialization for each method (same JSON options and read limit; see
 * prototype-safe-json.ts): the unary routes here, the streaming ones in direct-stream-path.ts.
 */
export function serializedRoutes<R extends { readonly method: DescMethod }>(
	routes: ReadonlyMap<string, R>,
	jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined,
	readMaxBytes: number,
): Map<string, R & { readonly serialization: MethodSerialization }> {
	const out = new Map<
		string,
		R & { readonly serialization: MethodSerialization }
	>();
	for (const [path, route] of routes) {
		out.set(path, {
			...route,
			// Connect JSON keeps `__proto__` keys of maps and Structs (prototype-safe-json.ts).
			serialization: prototypeSafeSerialization(
				createMethodSerializationLookup(route.method, undefined, jsonOptions, {
					readMaxBytes,
					writeMaxBytes: 0xffffffff,
				}),
				route.method.input,
				route.method.output,
				jsonOptions,
			),
		});
	}
	return out;
}
