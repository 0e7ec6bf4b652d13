import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { FlagdWebTransport } from "./flagd-web-transport.js";
import { fromConnectTransport } from "./from-connect-transport.js";
import {
	DEFAULT_MAX_MESSAGE_BYTES,
	limitMessageBytes,
} from "./limit-message-bytes.js";

/** Settings of {@link createFetchTransport}. */
export interface FetchTransportOptions {
	/** URL the service paths are appended to, e.g. `https://flags.example.com/flagd` (no trailing slash). */
	readonly baseUrl: string;
	/** @default globalThis.fetch */
	readonly fetch?: typeof globalThis.fetch;
	/** connect-es interceptors, e.g. to add an auth header. @default [] */
	readonly interceptors?: readonly Interceptor[];
	/**
	 * Largest response message accepted (a ResolveAll response, one EventStream message); a larger one fails the
	 * call or stream with `resource_exhausted`. @default 4194304 bytes (4 MiB, gRPC's default)
	 */
	readonly maxMessageBytes?: number;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
	"baseUrl",
	"fetch",
	"interceptors",
	"maxMessageBytes",
]);

/**
 * The provider's default transport: connect-web's Connect transport in the binary format (`application/proto`;
 * flagd's own web provider uses JSON, which cannot carry a `__proto__` key through protobuf-es) for ResolveAll
 * (unary POST) and EventStream (server streaming), adapted by {@link fromConnectTransport}, which reads both key
 * for key. Every request is sent with `cache: "no-store"`: flags must reflect the server's current state.
 */
export function createFetchTransport(
	options: FetchTransportOptions,
): FlagdWebTransport {
	for (const name of Object.keys(options)) {
		if (!KNOWN_OPTIONS.has(name)) {
			throw new TypeError(`createFetchTransport: unknown option "${name}"`);
		}
	}
	const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
	if (!(Number.isInteger(maxBytes) && maxBytes > 0))
		throw new TypeError(
			`createFetchTransport option "maxMessageBytes" must be a positive integer (got ${String(maxBytes)})`,
		);
	const custom = options.fetch;
	// Looked up at call time, not creation time: fetch must be called with the global as `this` in browsers.
	const noStoreFetch: typeof globalThis.fetch = (input, init) =>
		(custom ?? globalThis.fetch)(input, { ...init, cache: "no-store" });
	return fromConnectTransport(
		createConnectTransport({
			baseUrl: options.baseUrl,
			fetch: limitMessageBytes(noStoreFetch, maxBytes),
			useBinaryFormat: true,
			interceptors: [...(options.interceptors ?? [])],
		}),
		{ binaryFormat: true },
	);
}
