/**
 * The two calls the web provider makes, in the JSON shapes of flagd.evaluation.v1 (protojson). The default
 * implementation is connect-web's Connect transport (fetch-transport.ts); `fromConnectTransport` adapts any
 * connect-es `Transport` (binary format, gRPC-web, interceptors) to this interface.
 */
import type { JsonObject, JsonValue } from "@openfeature/web-sdk";

/** A JSON value and a JSON object (a `google.protobuf.Struct` in its JSON form): OpenFeature's types. */
export type { JsonObject, JsonValue };

/** Per-call settings. */
export interface CallOptions {
	/** Aborting ends the call (and, for the event stream, closes it). */
	readonly signal: AbortSignal;
	/** Extra request headers, e.g. `Flagd-Selector`. */
	readonly headers: Readonly<Record<string, string>>;
	/** Deadline of a unary call in milliseconds, sent as `Connect-Timeout-Ms`; absent for the stream. */
	readonly timeoutMs?: number;
}

/** One message of flagd's EventStream. */
export interface EventStreamMessage {
	readonly type: string;
	readonly data?: JsonObject | undefined;
}

/**
 * The calls of flagd.evaluation.v1.Service the provider needs. Failures must reject with a `FlagdWebError` (or
 * anything `toFlagdWebError` can wrap); the stream's iterator must end or throw when `signal` aborts.
 */
export interface FlagdWebTransport {
	/** ResolveAll: `{ context }` in, the response's JSON (`{ flags: { key: AnyFlag }, metadata }`) out. */
	resolveAll(context: JsonObject, options: CallOptions): Promise<unknown>;
	/** EventStream: yields each message until the server ends the stream or `signal` aborts. */
	eventStream(options: CallOptions): AsyncIterable<EventStreamMessage>;
}
