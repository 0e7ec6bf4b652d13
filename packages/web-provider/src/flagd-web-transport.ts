/**
 * The two calls the web provider makes, in the JSON shapes of flagd.evaluation.v1 (protojson). The default
 * implementation speaks the Connect protocol over fetch without a protobuf runtime (fetch-transport.ts);
 * `fromConnectTransport` adapts any connect-es `Transport` (connect-web, gRPC-web, binary) to this interface.
 */

/** A JSON value as it comes out of `JSON.parse`. */
export type JsonValue =
	| null
	| boolean
	| number
	| string
	| JsonValue[]
	| { [key: string]: JsonValue };

/** A JSON object (a `google.protobuf.Struct` in its JSON form). */
export type JsonObject = { [key: string]: JsonValue };

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
