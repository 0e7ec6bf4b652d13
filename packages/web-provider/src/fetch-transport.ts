import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { FlagdWebTransport } from "./flagd-web-transport.js";
import { fromConnectTransport } from "./from-connect-transport.js";

/** Settings of {@link createFetchTransport}. */
export interface FetchTransportOptions {
	/** URL the service paths are appended to, e.g. `https://flags.example.com/flagd` (no trailing slash). */
	readonly baseUrl: string;
	/** @default globalThis.fetch */
	readonly fetch?: typeof globalThis.fetch;
	/** connect-es interceptors, e.g. to add an auth header. @default [] */
	readonly interceptors?: readonly Interceptor[];
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
	"baseUrl",
	"fetch",
	"interceptors",
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
			throw new TypeError(
				name === "maxMessageBytes"
					? `createFetchTransport option "maxMessageBytes" is not supported: @connectrpc/connect-web has no per-message read limit`
					: `createFetchTransport: unknown option "${name}"`,
			);
		}
	}
	const custom = options.fetch;
	// Looked up at call time, not creation time: fetch must be called with the global as `this` in browsers.
	const noStoreFetch: typeof globalThis.fetch = (input, init) =>
		(custom ?? globalThis.fetch)(input, { ...init, cache: "no-store" });
	return fromConnectTransport(
		createConnectTransport({
			baseUrl: options.baseUrl,
			fetch: noStoreFetch,
			useBinaryFormat: true,
			interceptors: [...(options.interceptors ?? [])],
		}),
		{ binaryFormat: true },
	);
}
