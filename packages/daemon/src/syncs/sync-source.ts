/**
 * The one interface every sync source implements: flagd's ISync in TypeScript terms. A Go channel becomes an
 * AsyncIterable, a context an AbortSignal. Sources emit raw payloads; they never touch the store (the runtime
 * feeds payloads to it).
 */

/** One full snapshot of a source's flag definitions, as text (JSON or YAML) or an already-parsed object. */
export interface SyncPayload {
	/** The source's id (its URI as configured): the merge-priority key and the `source=` selector value. */
	readonly source: string;
	/** The document text, or a parsed JSON value (e.g. a Kubernetes `spec.flagSpec`). */
	readonly content: string | unknown;
	/** How to read `content` when it is text. */
	readonly format: "json" | "yaml";
	/** Static context sent by an upstream flagd sync server (`sync_context`), when the source is a gRPC sync. */
	readonly syncContext?: Record<string, unknown>;
	/**
	 * The source was unusable (and said so in the log) and this is its first good read since. The runtime logs the
	 * recovery once the store has accepted the document, never before. @default false
	 */
	readonly recovered?: boolean;
}

export interface SyncSource {
	/** The source's id: its URI as configured (`file:flags.json`, `https://…`, `grpc://host:8015`, …). */
	readonly uri: string;
	/**
	 * Prepares the source (validates config, opens clients). Rejects with a DaemonError when the source cannot work
	 * at all; the runtime decides whether that stops the daemon.
	 */
	init(signal: AbortSignal): Promise<void>;
	/**
	 * Streams full snapshots until `signal` aborts: the first one as soon as possible, then one per change.
	 * Transient failures after the first payload are logged and retried inside the source; the iterable only ends
	 * when the signal aborts. A failure before the first payload rejects the iteration.
	 */
	sync(signal: AbortSignal): AsyncIterable<SyncPayload>;
	/** Fetches the full current state on demand. */
	resync(signal: AbortSignal): Promise<SyncPayload>;
	/** True once the source delivered its first payload. */
	isReady(): boolean;
}
