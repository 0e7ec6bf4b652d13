import type { JsonObject } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import type { ErrorCode, Logger } from "@openfeature/core";
import type { ResultCache } from "./result-cache.js";

/** Connection state of a provider; the only place its lifecycle lives. */
export type ConnectionState =
	| "connecting"
	| "ready"
	| "stale"
	| "error"
	| "fatal";

/** OpenFeature event names the supervisor emits (same strings in the server and web SDKs). */
export type SupervisorEventName =
	| "PROVIDER_READY"
	| "PROVIDER_ERROR"
	| "PROVIDER_STALE"
	| "PROVIDER_CONFIGURATION_CHANGED";

/** Details passed with an emitted event. */
export interface SupervisorEventDetails {
	readonly message?: string;
	readonly errorCode?: ErrorCode;
	readonly flagsChanged?: string[];
}

/** One message of flagd's EventStream (v1 and v2 share the shape). */
export interface StreamMessage {
	readonly type: string;
	readonly data?: JsonObject | undefined;
}

/** Callbacks of the supervisor, passed as one named object. */
export interface SupervisorHandlers {
	/** Emits an OpenFeature provider event. */
	emit(event: SupervisorEventName, details: SupervisorEventDetails): void;
	/**
	 * Drops the transport's connections. Called when an attempt got no `provider_ready` within `deadlineMs`:
	 * the connection may be black-holed (a stalled proxy, a dead peer without RST), and HTTP/2 would otherwise
	 * keep multiplexing new attempts onto it forever.
	 */
	resetConnection?(): void;
	/**
	 * Runs on every `provider_ready` before the attempt counts as connected, bounded by the attempt's deadlineMs
	 * (the web provider loads its flags here). Resolves with the keys whose values changed since the last time, or
	 * undefined when it cannot tell; the reconnect's CONFIGURATION_CHANGED carries them. A rejection (a
	 * `ConnectError`, or anything `ConnectError.from` takes) fails the attempt like a stream error.
	 */
	synchronize?(signal: AbortSignal): Promise<readonly string[] | undefined>;
	/**
	 * Runs on `configuration_change` with the changed keys, before CONFIGURATION_CHANGED is emitted (the web
	 * provider re-fetches its flags here). A rejection fails the attempt like a stream error.
	 */
	configurationChanged?(
		flagsChanged: readonly string[],
		signal: AbortSignal,
	): Promise<void>;
}

/** Options of `EventStreamSupervisor`. */
export interface EventStreamSupervisorOptions {
	/** Opens one EventStream call; aborting the signal must end it. Failures should be `ConnectError`s. */
	openStream: (signal: AbortSignal) => AsyncIterable<StreamMessage>;
	/** Time allowed for initialization and for each attempt to receive `provider_ready`, in ms. */
	deadlineMs: number;
	/** Lifetime of one stream before it is re-opened, in ms; 0 = unlimited. */
	streamDeadlineMs: number;
	/**
	 * Silence on an open stream after which it counts as lost, in ms; 0 or absent disables. A connection that
	 * dies without a FIN (sleeping laptop, NAT timeout) never errors; flagd's keep_alive messages (every 20 s
	 * when idle) let silence be detected.
	 */
	streamIdleTimeoutMs?: number;
	retryBackoffMs: number;
	retryBackoffMaxMs: number;
	/** Time in STALE before ERROR, in ms. */
	retryGracePeriodMs: number;
	/** Status codes that are fatal while the provider has never been connected. */
	fatalCodes: ReadonlySet<Code>;
	/** Cache whose mode follows the state; optional. */
	cache?: ResultCache | undefined;
	handlers: SupervisorHandlers;
	logger: Logger;
	/** Who is speaking in log lines. @default "flagd provider" */
	logName?: string;
	/** Random source for backoff jitter; a test seam. */
	random?: () => number;
}
