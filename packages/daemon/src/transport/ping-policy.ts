/**
 * Client keepalive PING enforcement, as grpc-go's `keepalive.EnforcementPolicy` does on flagd's sync server
 * (`--keep-alive-min-time`, `--keep-alive-permit-without-stream`): a PING that arrives sooner than `minTimeMs`
 * after the previous one (or, without an open stream and without permission, sooner than two hours after it) is a
 * strike; a new stream clears the strikes. The third strike ends the connection with GOAWAY ENHANCE_YOUR_CALM and
 * the debug data `too_many_pings`, which gRPC clients understand (they double their keepalive interval).
 * Node emits `ping` for every PING a peer sends (and answers it itself); the acknowledgements of our own PINGs are
 * not PINGs and are not counted.
 */
import http2 from "node:http2";

export interface PingPolicy {
	/** Minimum interval between client PINGs; 0 accepts any rate. */
	readonly minTimeMs: number;
	/** Whether PINGs are accepted on a connection with no open stream. */
	readonly permitWithoutStream: boolean;
}

/** grpc-go's `maxPingStrikes`: the connection ends on the strike after this many. */
const MAX_PING_STRIKES = 2;
/** grpc-go's `defaultPingTimeout`: without an open stream (and no permission) PINGs must be this far apart. */
const PING_INTERVAL_WITHOUT_STREAM_MS = 2 * 60 * 60 * 1_000;
/** The GOAWAY debug data gRPC clients look for. */
const TOO_MANY_PINGS = Buffer.from("too_many_pings");

/** Watches a session's client PINGs; `streamOpened` must be called for every new stream. */
export function enforcePingPolicy(
	session: http2.ServerHttp2Session,
	policy: PingPolicy,
	openStreams: () => number,
): { streamOpened(): void } {
	let lastPingAt: number | undefined;
	let strikes = 0;
	let resetStrikes = false;
	session.on("ping", () => {
		const now = performance.now();
		const previous = lastPingAt;
		lastPingAt = now;
		if (resetStrikes) {
			resetStrikes = false;
			strikes = 0;
			return;
		}
		if (previous === undefined) return;
		const minGapMs =
			openStreams() < 1 && !policy.permitWithoutStream
				? PING_INTERVAL_WITHOUT_STREAM_MS
				: policy.minTimeMs;
		if (now - previous < minGapMs) strikes++;
		if (strikes > MAX_PING_STRIKES && !session.closed && !session.destroyed) {
			// Like grpc-go, the connection ends now, open streams included; the socket goes once GOAWAY is written.
			session.goaway(
				http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
				session.state.lastProcStreamID ?? 0,
				TOO_MANY_PINGS,
			);
			setImmediate(() => session.destroy());
		}
	});
	return {
		streamOpened() {
			resetStrikes = true;
		},
	};
}
