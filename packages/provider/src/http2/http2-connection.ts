/**
 * One client HTTP/2 connection (RFC 9113) over a socket the caller dialled: connection preface and SETTINGS,
 * request streams (HEADERS + CONTINUATION, DATA within the peer's flow-control windows, concurrency limit),
 * response frames parsed straight from the socket's chunks, HPACK state, flow-control credit, PING, GOAWAY and
 * RST_STREAM. It carries short request/response exchanges (gRPC unary calls); it has no server push and no
 * priorities.
 *
 * Why not node:http2: its per-stream objects, event emitters and C++ round trips cost about 110 µs of CPU per
 * unary call on a 2-core machine, more than the daemon needs to answer (docs/performance.md).
 */
import type * as net from "node:net";
import type * as tls from "node:tls";
import { HpackDecoder } from "./hpack-decoder.js";
import type { Http2ClientStream, Http2Fields } from "./http2-client-stream.js";
import {
	CLIENT_PREFACE,
	DEFAULT_INITIAL_WINDOW_SIZE,
	DEFAULT_MAX_FRAME_SIZE,
	FRAME_HEADER_BYTES,
	FrameFlag,
	FrameType,
	frame,
	Http2ErrorCode,
	http2ErrorName,
	MAX_ALLOWED_FRAME_SIZE,
	MAX_STREAM_ID,
	MAX_WINDOW_SIZE,
	Setting,
	writeFrameHeader,
} from "./http2-frame.js";
import { Http2StreamError } from "./http2-stream-error.js";

/** Receive window we grant each stream (SETTINGS_INITIAL_WINDOW_SIZE): one large answer needs no WINDOW_UPDATE. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** Receive window of the whole connection. */
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
/** Largest decoded header list we accept (SETTINGS_MAX_HEADER_LIST_SIZE). */
const MAX_HEADER_LIST_BYTES = 64 * 1024;
/** HPACK dynamic table size update to 0 (RFC 7541 §6.3): 001 prefix, 5-bit size. */
const TABLE_SIZE_UPDATE_ZERO = Buffer.from([0x20]);
/** Largest compressed header block (all CONTINUATION fragments) we buffer. */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

/** What the connection tells its owner. */
export interface Http2ConnectionEvents {
	/** A stream the server did not process; the owner may send it again elsewhere (returns true if it did). */
	retry(stream: Http2ClientStream): boolean;
	/** The connection is closed: nothing more will happen on it. */
	closed(connection: Http2Connection): void;
}

export class Http2Connection {
	private readonly streams = new Map<number, Http2ClientStream>();
	/** Streams beyond the server's MAX_CONCURRENT_STREAMS, in order; they get their id when they start. */
	private readonly waiting: Http2ClientStream[] = [];
	/** Streams with request bytes held back by flow control. */
	private readonly blocked = new Set<Http2ClientStream>();
	private readonly decoder = new HpackDecoder(4096, MAX_HEADER_LIST_BYTES);
	private nextStreamId = 1;
	private active = 0;
	private closedError: Http2StreamError | undefined;
	private goingAway = false;
	private sawServerSettings = false;
	private sawFrames = false;
	/** The server sent SETTINGS_HEADER_TABLE_SIZE: our next header block must start with a table size update. */
	private tableSizeUpdatePending = false;

	// Peer settings and our send windows.
	private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
	private peerInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
	private peerMaxStreams = Number.POSITIVE_INFINITY;
	private connectionSendWindow = DEFAULT_INITIAL_WINDOW_SIZE;

	// Our receive windows.
	private connectionReceiveWindow = CONNECTION_WINDOW_BYTES;
	private connectionUncredited = 0;

	// Frame reassembly across socket chunks.
	private leftover: Buffer | undefined;
	// Header block in progress (HEADERS without END_HEADERS, then CONTINUATION).
	private headerStreamId = 0;
	private headerEndStream = false;
	private headerFragments: Buffer[] = [];
	private headerBytes = 0;
	private fields: Http2Fields = Object.create(null);
	private malformedField: string | undefined;
	private readonly onField = (name: string, value: string): void => {
		if (this.malformedField === undefined && /[A-Z]/.test(name)) {
			this.malformedField = name;
		}
		const existing = this.fields[name];
		this.fields[name] =
			existing === undefined ? value : `${existing}, ${value}`;
	};

	// PING bookkeeping (keep-alive and probes): one outstanding ping at a time.
	private pingWaiters: ((acked: boolean) => void)[] = [];
	private pingTimer: NodeJS.Timeout | undefined;

	constructor(
		private readonly socket: net.Socket | tls.TLSSocket,
		private readonly events: Http2ConnectionEvents,
		secure: boolean,
	) {
		socket.setNoDelay(true);
		socket.on("data", (chunk: Buffer) => this.onSocketData(chunk));
		// socket.connecting is already false when a failed connect emits "error", so track the connect itself.
		let connected = !socket.connecting;
		socket.once("connect", () => {
			connected = true;
		});
		socket.on("error", (err: NodeJS.ErrnoException) =>
			this.fail(
				new Http2StreamError(
					// A TLS server without h2 in its ALPN list may refuse the handshake instead of picking none; the
					// error is then ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, or EPROTO when a write hit it first.
					err.code === "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL" ||
						err.message.includes("alert no application protocol")
						? `the server did not agree to HTTP/2 over TLS (ALPN: no common protocol): ${err.message}`
						: connected
							? `connection to the server failed: ${err.message}`
							: `cannot connect to the server: ${err.message}`,
					"connection",
					Http2ErrorCode.CONNECT_ERROR,
					{ cause: err },
				),
			),
		);
		socket.on("end", () =>
			this.fail(
				new Http2StreamError(
					"the server closed the connection before the answer",
					"connection",
					Http2ErrorCode.NO_ERROR,
				),
			),
		);
		socket.on("close", () =>
			this.fail(
				new Http2StreamError(
					"connection closed",
					"connection",
					Http2ErrorCode.NO_ERROR,
				),
			),
		);
		if (secure) {
			socket.once("secureConnect", () => {
				const alpn = (socket as tls.TLSSocket).alpnProtocol;
				if (alpn !== "h2") {
					this.fail(
						new Http2StreamError(
							`the server did not agree to HTTP/2 over TLS (ALPN: ${alpn === false ? "none" : alpn})`,
							"connection",
							Http2ErrorCode.CONNECT_ERROR,
						),
					);
				}
			});
		}
		const settings = Buffer.alloc(18);
		settings.writeUInt16BE(Setting.ENABLE_PUSH, 0);
		settings.writeUInt32BE(0, 2);
		settings.writeUInt16BE(Setting.INITIAL_WINDOW_SIZE, 6);
		settings.writeUInt32BE(STREAM_WINDOW_BYTES, 8);
		settings.writeUInt16BE(Setting.MAX_HEADER_LIST_SIZE, 12);
		settings.writeUInt32BE(MAX_HEADER_LIST_BYTES, 14);
		socket.write(
			Buffer.concat([
				CLIENT_PREFACE,
				frame(FrameType.SETTINGS, 0, 0, settings),
				windowUpdate(0, CONNECTION_WINDOW_BYTES - DEFAULT_INITIAL_WINDOW_SIZE),
			]),
		);
	}

	/** Whether new streams may start here (not closed, no GOAWAY, stream ids left). */
	get usable(): boolean {
		return (
			this.closedError === undefined &&
			!this.goingAway &&
			this.nextStreamId + 2 * this.waiting.length <= MAX_STREAM_ID
		);
	}

	/** Streams started or waiting. */
	get activeStreams(): number {
		return this.active;
	}

	/** Whether any frame arrived since the last call (keep-alive: no traffic means it is time to ping). */
	takeActivity(): boolean {
		const saw = this.sawFrames;
		this.sawFrames = false;
		return saw;
	}

	/** Starts `stream` now, or when the server's stream limit allows. */
	open(stream: Http2ClientStream): void {
		stream.connection = this;
		this.active += 1;
		if (this.active === 1) this.socket.ref();
		if (this.streams.size >= this.peerMaxStreams) this.waiting.push(stream);
		else this.start(stream);
	}

	/** Sends a PING; `done(true)` on its ACK, `done(false)` if none comes within `timeoutMs` (then the connection is dropped). */
	ping(timeoutMs: number, done: (acked: boolean) => void): void {
		if (this.closedError !== undefined) {
			done(false);
			return;
		}
		this.pingWaiters.push(done);
		if (this.pingWaiters.length > 1) return;
		this.socket.write(frame(FrameType.PING, 0, 0, new Uint8Array(8)));
		this.pingTimer = setTimeout(() => {
			this.pingTimer = undefined;
			this.fail(
				new Http2StreamError(
					`the server did not answer a PING within ${timeoutMs} ms`,
					"connection",
					Http2ErrorCode.CANCEL,
				),
			);
		}, timeoutMs);
		this.pingTimer.unref();
	}

	/** Cancels a stream of this connection (RST_STREAM CANCEL if it had started). */
	cancel(stream: Http2ClientStream): void {
		if (stream.id === 0) {
			const index = this.waiting.indexOf(stream);
			if (index >= 0) {
				this.waiting.splice(index, 1);
				this.release();
			}
			return;
		}
		if (this.streams.get(stream.id) !== stream) return;
		this.socket.write(rstStream(stream.id, Http2ErrorCode.CANCEL));
		this.finish(stream);
	}

	/** Closes the connection at once; open streams fail with `error`. */
	destroy(error: Http2StreamError): void {
		this.fail(error);
	}

	private start(stream: Http2ClientStream): void {
		const id = this.nextStreamId;
		this.nextStreamId += 2;
		stream.id = id;
		stream.sendWindow = this.peerInitialWindow;
		stream.receiveWindow = STREAM_WINDOW_BYTES;
		this.streams.set(id, stream);
		let block = stream.headerBlock;
		if (this.tableSizeUpdatePending) {
			// RFC 7541 §4.2: the first block after we ACKed a SETTINGS_HEADER_TABLE_SIZE must signal the new size,
			// else nghttp2 fails the connection with COMPRESSION_ERROR. Our blocks never index, so 0 always fits.
			this.tableSizeUpdatePending = false;
			block = Buffer.concat([TABLE_SIZE_UPDATE_ZERO, block]);
		}
		const body = stream.body;
		const fitsOneFrame =
			block.length <= this.peerMaxFrameSize &&
			body.length <= this.peerMaxFrameSize &&
			body.length <= stream.sendWindow &&
			body.length <= this.connectionSendWindow;
		if (fitsOneFrame) {
			// The common case: HEADERS and the whole body in one write.
			const hasBody = body.length > 0;
			const out = Buffer.allocUnsafe(
				FRAME_HEADER_BYTES +
					block.length +
					(hasBody ? FRAME_HEADER_BYTES + body.length : 0),
			);
			writeFrameHeader(
				out,
				0,
				block.length,
				FrameType.HEADERS,
				FrameFlag.END_HEADERS | (hasBody ? 0 : FrameFlag.END_STREAM),
				id,
			);
			out.set(block, FRAME_HEADER_BYTES);
			if (hasBody) {
				const at = FRAME_HEADER_BYTES + block.length;
				writeFrameHeader(
					out,
					at,
					body.length,
					FrameType.DATA,
					FrameFlag.END_STREAM,
					id,
				);
				out.set(body, at + FRAME_HEADER_BYTES);
				stream.sendWindow -= body.length;
				this.connectionSendWindow -= body.length;
			}
			stream.localEnded = true;
			this.socket.write(out);
			return;
		}
		this.socket.write(this.headerFrames(id, block, body.length === 0));
		if (body.length === 0) stream.localEnded = true;
		else {
			stream.pendingOffset = 0;
			this.flush(stream);
		}
	}

	/** HEADERS plus CONTINUATION frames for a block larger than the server's frame size; one write keeps them together. */
	private headerFrames(
		id: number,
		block: Uint8Array,
		endStream: boolean,
	): Buffer {
		const parts: Buffer[] = [];
		for (let at = 0; at < block.length || at === 0; ) {
			const size = Math.min(this.peerMaxFrameSize, block.length - at);
			const last = at + size >= block.length;
			parts.push(
				frame(
					at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION,
					(last ? FrameFlag.END_HEADERS : 0) |
						(at === 0 && endStream ? FrameFlag.END_STREAM : 0),
					id,
					block.subarray(at, at + size),
				),
			);
			at += size;
			if (last) break;
		}
		return Buffer.concat(parts);
	}

	/** Sends as much of the stream's body as the windows allow. */
	private flush(stream: Http2ClientStream): void {
		const body = stream.body;
		while (stream.pendingOffset < body.length) {
			const size = Math.min(
				body.length - stream.pendingOffset,
				this.peerMaxFrameSize,
				stream.sendWindow,
				this.connectionSendWindow,
			);
			if (size <= 0) {
				this.blocked.add(stream);
				return;
			}
			const end = stream.pendingOffset + size;
			const last = end === body.length;
			this.socket.write(
				frame(
					FrameType.DATA,
					last ? FrameFlag.END_STREAM : 0,
					stream.id,
					body.subarray(stream.pendingOffset, end),
				),
			);
			stream.pendingOffset = end;
			stream.sendWindow -= size;
			this.connectionSendWindow -= size;
		}
		stream.localEnded = true;
		this.blocked.delete(stream);
	}

	private flushBlocked(): void {
		for (const stream of [...this.blocked]) {
			if (this.connectionSendWindow <= 0) return;
			this.flush(stream);
		}
	}

	/** The stream is done on this connection: forget it, start a waiting one, drop the connection when draining. */
	private finish(stream: Http2ClientStream): void {
		this.streams.delete(stream.id);
		this.blocked.delete(stream);
		this.release();
	}

	private release(): void {
		this.active -= 1;
		while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams) {
			this.start(this.waiting.shift() as Http2ClientStream);
		}
		if (this.active === 0) {
			if (this.goingAway) this.closeSocket();
			else this.socket.unref();
		}
	}

	private onSocketData(chunk: Buffer): void {
		this.sawFrames = true;
		let data = chunk;
		if (this.leftover !== undefined) {
			data = Buffer.concat([this.leftover, chunk]);
			this.leftover = undefined;
		}
		let at = 0;
		while (this.closedError === undefined) {
			if (data.length - at < FRAME_HEADER_BYTES) break;
			const length =
				((data[at] as number) << 16) |
				((data[at + 1] as number) << 8) |
				(data[at + 2] as number);
			const type = data[at + 3] as number;
			const flags = data[at + 4] as number;
			const streamId = data.readUInt32BE(at + 5) & 0x7fff_ffff;
			if (!this.sawServerSettings && type !== FrameType.SETTINGS) {
				this.protocolError(
					Http2ErrorCode.PROTOCOL_ERROR,
					`the server did not answer with HTTP/2 (first bytes ${JSON.stringify(data.subarray(at, at + 16).toString("latin1"))})`,
				);
				return;
			}
			if (length > DEFAULT_MAX_FRAME_SIZE) {
				this.protocolError(
					Http2ErrorCode.FRAME_SIZE_ERROR,
					`frame of ${length} bytes exceeds the frame size we allow`,
				);
				return;
			}
			const end = at + FRAME_HEADER_BYTES + length;
			if (end > data.length) break;
			this.onFrame(
				type,
				flags,
				streamId,
				data.subarray(at + FRAME_HEADER_BYTES, end),
			);
			at = end;
		}
		if (at < data.length && this.closedError === undefined) {
			this.leftover = data.subarray(at);
		}
	}

	private onFrame(
		type: number,
		flags: number,
		streamId: number,
		payload: Buffer,
	): void {
		if (this.headerStreamId !== 0 && type !== FrameType.CONTINUATION) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"header block interrupted by another frame",
			);
			return;
		}
		switch (type) {
			case FrameType.DATA:
				this.onData(flags, streamId, payload);
				return;
			case FrameType.HEADERS:
				this.onHeaders(flags, streamId, payload);
				return;
			case FrameType.CONTINUATION:
				this.onContinuation(flags, streamId, payload);
				return;
			case FrameType.PRIORITY:
				if (streamId === 0 || payload.length !== 5) {
					this.protocolError(
						Http2ErrorCode.PROTOCOL_ERROR,
						"malformed PRIORITY frame",
					);
				}
				return;
			case FrameType.RST_STREAM:
				this.onRstStream(streamId, payload);
				return;
			case FrameType.SETTINGS:
				this.onSettings(flags, streamId, payload);
				return;
			case FrameType.PUSH_PROMISE:
				this.protocolError(
					Http2ErrorCode.PROTOCOL_ERROR,
					"PUSH_PROMISE although push is disabled",
				);
				return;
			case FrameType.PING:
				this.onPing(flags, streamId, payload);
				return;
			case FrameType.GOAWAY:
				this.onGoaway(streamId, payload);
				return;
			case FrameType.WINDOW_UPDATE:
				this.onWindowUpdate(streamId, payload);
				return;
			default:
			// Unknown frame types are ignored (RFC 9113 §4.1).
		}
	}

	private onData(flags: number, streamId: number, payload: Buffer): void {
		if (streamId === 0 || streamId >= this.nextStreamId || streamId % 2 === 0) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				`DATA on stream ${streamId}, which was never opened`,
			);
			return;
		}
		const size = payload.length;
		this.connectionReceiveWindow -= size;
		if (this.connectionReceiveWindow < 0) {
			this.protocolError(
				Http2ErrorCode.FLOW_CONTROL_ERROR,
				"the server overran the connection window",
			);
			return;
		}
		this.connectionUncredited += size;
		if (this.connectionUncredited >= CONNECTION_WINDOW_BYTES / 2) {
			this.socket.write(windowUpdate(0, this.connectionUncredited));
			this.connectionReceiveWindow += this.connectionUncredited;
			this.connectionUncredited = 0;
		}
		const body = unpad(flags, payload);
		if (body === undefined) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"DATA padding longer than the frame",
			);
			return;
		}
		const stream = this.streams.get(streamId);
		// Frames for a stream we cancelled or finished count against the connection window only.
		if (stream === undefined) return;
		if (!stream.sawHeaders) {
			this.streamError(stream, "DATA before the response headers");
			return;
		}
		stream.receiveWindow -= size;
		if (stream.receiveWindow < 0) {
			this.streamError(
				stream,
				"the server overran the stream window",
				Http2ErrorCode.FLOW_CONTROL_ERROR,
			);
			return;
		}
		const endStream = (flags & FrameFlag.END_STREAM) !== 0;
		if (!endStream && stream.receiveWindow <= STREAM_WINDOW_BYTES / 2) {
			const credit = STREAM_WINDOW_BYTES - stream.receiveWindow;
			this.socket.write(windowUpdate(streamId, credit));
			stream.receiveWindow += credit;
		}
		if (endStream) this.remoteEnded(stream);
		stream.handler.onData(body, endStream);
	}

	private onHeaders(flags: number, streamId: number, payload: Buffer): void {
		let fragment = unpad(flags, payload);
		if (fragment === undefined || streamId === 0) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"malformed HEADERS frame",
			);
			return;
		}
		if ((flags & FrameFlag.PRIORITY) !== 0) {
			if (fragment.length < 5) {
				this.protocolError(
					Http2ErrorCode.PROTOCOL_ERROR,
					"malformed HEADERS frame",
				);
				return;
			}
			fragment = fragment.subarray(5);
		}
		if (streamId % 2 === 0 || streamId >= this.nextStreamId) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				`HEADERS on stream ${streamId}, which was never opened`,
			);
			return;
		}
		this.headerEndStream = (flags & FrameFlag.END_STREAM) !== 0;
		if ((flags & FrameFlag.END_HEADERS) !== 0) {
			this.onHeaderBlock(streamId, fragment);
			return;
		}
		this.headerStreamId = streamId;
		this.headerFragments = [fragment];
		this.headerBytes = fragment.length;
	}

	private onContinuation(
		flags: number,
		streamId: number,
		payload: Buffer,
	): void {
		if (this.headerStreamId === 0 || streamId !== this.headerStreamId) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"CONTINUATION without a header block in progress",
			);
			return;
		}
		this.headerBytes += payload.length;
		if (this.headerBytes > MAX_HEADER_BLOCK_BYTES) {
			this.protocolError(
				Http2ErrorCode.ENHANCE_YOUR_CALM,
				"header block too large",
			);
			return;
		}
		this.headerFragments.push(payload);
		if ((flags & FrameFlag.END_HEADERS) === 0) return;
		const block = Buffer.concat(this.headerFragments, this.headerBytes);
		this.headerStreamId = 0;
		this.headerFragments = [];
		this.onHeaderBlock(streamId, block);
	}

	private onHeaderBlock(streamId: number, block: Buffer): void {
		this.fields = Object.create(null);
		this.malformedField = undefined;
		try {
			// Decoded even for streams we no longer track: the HPACK table must stay in step with the server's.
			this.decoder.decode(block, this.onField);
		} catch (err: unknown) {
			this.protocolError(
				Http2ErrorCode.COMPRESSION_ERROR,
				`cannot decode the server's headers: ${err instanceof Error ? err.message : String(err)}`,
			);
			return;
		}
		const stream = this.streams.get(streamId);
		if (stream === undefined) return;
		if (this.malformedField !== undefined) {
			this.streamError(
				stream,
				`malformed response header name ${JSON.stringify(this.malformedField)}`,
			);
			return;
		}
		const endStream = this.headerEndStream;
		const first = !stream.sawHeaders;
		// Informational (1xx) responses precede the real one; nothing to tell the caller.
		if (first && !endStream && this.fields[":status"]?.startsWith("1")) return;
		stream.sawHeaders = true;
		if (!first && !endStream) {
			this.streamError(stream, "trailers without END_STREAM");
			return;
		}
		if (endStream) this.remoteEnded(stream);
		stream.handler.onHeaders(this.fields, endStream);
	}

	/** The server finished its side; the stream is complete once ours is too (ours is normally already done). */
	private remoteEnded(stream: Http2ClientStream): void {
		if (!stream.localEnded) {
			// The server answered before the request body was sent (RFC 9113 §8.1): stop sending.
			this.socket.write(rstStream(stream.id, Http2ErrorCode.NO_ERROR));
		}
		this.finish(stream);
	}

	private onRstStream(streamId: number, payload: Buffer): void {
		if (streamId === 0 || payload.length !== 4) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"malformed RST_STREAM frame",
			);
			return;
		}
		const stream = this.streams.get(streamId);
		if (stream === undefined) return;
		const code = payload.readUInt32BE(0);
		this.finish(stream);
		const refused = code === Http2ErrorCode.REFUSED_STREAM;
		if (refused && this.events.retry(stream)) return;
		stream.handler.onFailure(
			new Http2StreamError(
				`stream reset by the server (${http2ErrorName(code)})`,
				refused ? "refused" : "reset",
				code,
			),
		);
	}

	private onSettings(flags: number, streamId: number, payload: Buffer): void {
		if (streamId !== 0) {
			this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
			return;
		}
		if ((flags & FrameFlag.ACK) !== 0) {
			if (payload.length !== 0)
				this.protocolError(
					Http2ErrorCode.FRAME_SIZE_ERROR,
					"SETTINGS ACK with a payload",
				);
			return;
		}
		if (payload.length % 6 !== 0) {
			this.protocolError(
				Http2ErrorCode.FRAME_SIZE_ERROR,
				"SETTINGS payload not a multiple of 6",
			);
			return;
		}
		this.sawServerSettings = true;
		for (let at = 0; at < payload.length; at += 6) {
			const id = payload.readUInt16BE(at);
			const value = payload.readUInt32BE(at + 2);
			switch (id) {
				case Setting.MAX_CONCURRENT_STREAMS:
					this.peerMaxStreams = value;
					break;
				case Setting.INITIAL_WINDOW_SIZE: {
					if (value > MAX_WINDOW_SIZE) {
						this.protocolError(
							Http2ErrorCode.FLOW_CONTROL_ERROR,
							"SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
						);
						return;
					}
					const delta = value - this.peerInitialWindow;
					this.peerInitialWindow = value;
					for (const stream of this.streams.values())
						stream.sendWindow += delta;
					break;
				}
				case Setting.MAX_FRAME_SIZE:
					if (
						value < DEFAULT_MAX_FRAME_SIZE ||
						value > MAX_ALLOWED_FRAME_SIZE
					) {
						this.protocolError(
							Http2ErrorCode.PROTOCOL_ERROR,
							`SETTINGS_MAX_FRAME_SIZE ${value} out of range`,
						);
						return;
					}
					this.peerMaxFrameSize = value;
					break;
				case Setting.ENABLE_PUSH:
					if (value > 1) {
						this.protocolError(
							Http2ErrorCode.PROTOCOL_ERROR,
							"SETTINGS_ENABLE_PUSH not 0 or 1",
						);
						return;
					}
					break;
				case Setting.HEADER_TABLE_SIZE:
					// Our encoder never uses the dynamic table, but the change must still be signalled (see start()).
					this.tableSizeUpdatePending = true;
					break;
				default:
				// Unknown settings are ignored.
			}
		}
		this.socket.write(frame(FrameType.SETTINGS, FrameFlag.ACK, 0));
		while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams) {
			this.start(this.waiting.shift() as Http2ClientStream);
		}
		this.flushBlocked();
	}

	private onPing(flags: number, streamId: number, payload: Buffer): void {
		if (streamId !== 0 || payload.length !== 8) {
			this.protocolError(Http2ErrorCode.PROTOCOL_ERROR, "malformed PING frame");
			return;
		}
		if ((flags & FrameFlag.ACK) === 0) {
			this.socket.write(frame(FrameType.PING, FrameFlag.ACK, 0, payload));
			return;
		}
		if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
		this.pingTimer = undefined;
		const waiters = this.pingWaiters;
		this.pingWaiters = [];
		for (const done of waiters) done(true);
	}

	private onGoaway(streamId: number, payload: Buffer): void {
		if (streamId !== 0 || payload.length < 8) {
			this.protocolError(
				Http2ErrorCode.PROTOCOL_ERROR,
				"malformed GOAWAY frame",
			);
			return;
		}
		const lastStreamId = payload.readUInt32BE(0) & 0x7fff_ffff;
		const code = payload.readUInt32BE(4);
		const debug = payload.subarray(8).toString("latin1");
		this.goingAway = true;
		// Streams the server never processed: safe to send again on a new connection.
		const refused = [...this.streams.values()].filter(
			(s) => s.id > lastStreamId,
		);
		refused.push(...this.waiting.splice(0));
		for (const stream of refused) {
			if (stream.id !== 0) this.streams.delete(stream.id);
			this.blocked.delete(stream);
			this.active -= 1;
		}
		for (const stream of refused) {
			if (this.events.retry(stream)) continue;
			stream.handler.onFailure(
				new Http2StreamError(
					`the server is closing the connection (GOAWAY ${http2ErrorName(code)}${debug === "" ? "" : `: ${debug}`}) and did not process the call`,
					"refused",
					code,
				),
			);
		}
		if (code !== Http2ErrorCode.NO_ERROR) {
			// An error GOAWAY means the server considers the connection broken; it may never close the socket, and
			// the calls it had accepted would otherwise wait for their deadlines.
			this.fail(
				new Http2StreamError(
					`the server ended the connection (GOAWAY ${http2ErrorName(code)}${debug === "" ? "" : `: ${debug}`})`,
					"connection",
					code,
				),
			);
			return;
		}
		if (this.active === 0) this.closeSocket();
	}

	private onWindowUpdate(streamId: number, payload: Buffer): void {
		if (payload.length !== 4) {
			this.protocolError(
				Http2ErrorCode.FRAME_SIZE_ERROR,
				"malformed WINDOW_UPDATE frame",
			);
			return;
		}
		const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
		if (streamId === 0) {
			if (
				increment === 0 ||
				this.connectionSendWindow + increment > MAX_WINDOW_SIZE
			) {
				this.protocolError(
					Http2ErrorCode.FLOW_CONTROL_ERROR,
					"invalid connection WINDOW_UPDATE",
				);
				return;
			}
			this.connectionSendWindow += increment;
			this.flushBlocked();
			return;
		}
		const stream = this.streams.get(streamId);
		if (stream === undefined) return;
		if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW_SIZE) {
			this.streamError(
				stream,
				"invalid stream WINDOW_UPDATE",
				Http2ErrorCode.FLOW_CONTROL_ERROR,
			);
			return;
		}
		stream.sendWindow += increment;
		if (this.blocked.has(stream)) this.flush(stream);
	}

	/** The server broke the protocol on one stream: reset it and fail its call. */
	private streamError(
		stream: Http2ClientStream,
		message: string,
		code: number = Http2ErrorCode.PROTOCOL_ERROR,
	): void {
		this.socket.write(rstStream(stream.id, code));
		this.finish(stream);
		stream.handler.onFailure(
			new Http2StreamError(`protocol error: ${message}`, "protocol", code),
		);
	}

	/** The server broke the protocol for the connection: GOAWAY with `code`, then close and fail every stream. */
	private protocolError(code: number, message: string): void {
		if (this.closedError !== undefined) return;
		const payload = Buffer.alloc(8 + Buffer.byteLength(message));
		payload.writeUInt32BE(0, 0);
		payload.writeUInt32BE(code, 4);
		payload.write(message, 8);
		this.socket.write(frame(FrameType.GOAWAY, 0, 0, payload));
		this.fail(
			new Http2StreamError(`protocol error: ${message}`, "protocol", code),
		);
	}

	/** Ends the connection: every stream and waiting ping fails with `error`; idempotent. */
	private fail(error: Http2StreamError): void {
		if (this.closedError !== undefined) return;
		this.closedError = error;
		if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
		this.pingTimer = undefined;
		const streams = [...this.streams.values(), ...this.waiting];
		this.streams.clear();
		this.waiting.length = 0;
		this.blocked.clear();
		this.active = 0;
		this.closeSocket();
		this.events.closed(this);
		for (const done of this.pingWaiters.splice(0)) done(false);
		for (const stream of streams) {
			stream.handler.onFailure(error);
		}
	}

	private closeSocket(): void {
		if (this.closedError === undefined) {
			this.closedError = new Http2StreamError(
				"connection closed",
				"connection",
				Http2ErrorCode.NO_ERROR,
			);
			this.events.closed(this);
		}
		// end() lets queued frames (a GOAWAY, an RST_STREAM) go out; destroy() follows in case the peer never closes.
		this.socket.end();
		const timer = setTimeout(() => this.socket.destroy(), 1000);
		timer.unref();
		this.socket.once("close", () => clearTimeout(timer));
	}
}

function windowUpdate(streamId: number, increment: number): Buffer {
	const payload = Buffer.allocUnsafe(4);
	payload.writeUInt32BE(increment, 0);
	return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

function rstStream(streamId: number, code: number): Buffer {
	const payload = Buffer.allocUnsafe(4);
	payload.writeUInt32BE(code, 0);
	return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** The payload without its padding, or undefined when the pad length is impossible. */
function unpad(flags: number, payload: Buffer): Buffer | undefined {
	if ((flags & FrameFlag.PADDED) === 0) return payload;
	if (payload.length < 1) return undefined;
	const padLength = payload[0] as number;
	if (padLength >= payload.length) return undefined;
	return payload.subarray(1, payload.length - padLength);
}
