/**
 * A hand-written, frame-level HTTP/2 "server" for the client tests: it checks the client preface, parses the
 * frames the client sends, and writes whatever frames a test chooses, including ones nghttp2 would never send
 * (bad padding, oversized frames, PUSH_PROMISE, interrupted header blocks). It implements no protocol logic of its
 * own: each test decides what to answer.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { encodeHeaderBlock } from "../hpack-encoder.js";
import {
	CLIENT_PREFACE,
	FRAME_HEADER_BYTES,
	FrameFlag,
	FrameType,
	frame,
} from "../http2-frame.js";

/** One frame the client sent. */
export interface RawFrame {
	readonly type: number;
	readonly flags: number;
	readonly streamId: number;
	readonly payload: Buffer;
}

type FrameWaiter = {
	readonly match: (f: RawFrame) => boolean;
	readonly resolve: (f: RawFrame) => void;
};

/** One accepted client connection. */
export class RawConnection {
	/** Every frame received so far, in order. */
	readonly frames: RawFrame[] = [];
	/** Whether the first 24 bytes were the client preface (undefined until they arrived). */
	prefaceOk: boolean | undefined;
	/** Resolves when the socket has closed. */
	readonly closed: Promise<void>;
	private buffer = Buffer.alloc(0);
	private waiters: FrameWaiter[] = [];
	private frameListeners: ((f: RawFrame) => void)[] = [];

	constructor(
		readonly socket: net.Socket,
		readonly index: number,
	) {
		this.closed = new Promise((resolve) =>
			socket.once("close", () => resolve()),
		);
		socket.on("data", (chunk: Buffer) => this.onData(chunk));
		// The client may reset the socket after a protocol error; the tests look at frames, not at socket errors.
		socket.on("error", () => {});
	}

	/** Calls `listener` for every frame from now on. */
	onFrame(listener: (f: RawFrame) => void): void {
		this.frameListeners.push(listener);
	}

	/** The first frame (already received or still to come) that matches. */
	waitFor(match: (f: RawFrame) => boolean): Promise<RawFrame> {
		const seen = this.frames.find(match);
		if (seen !== undefined) return Promise.resolve(seen);
		return new Promise((resolve) => this.waiters.push({ match, resolve }));
	}

	/** The next frame from now on that matches (ignoring frames already received). */
	waitForNext(match: (f: RawFrame) => boolean): Promise<RawFrame> {
		return new Promise((resolve) => this.waiters.push({ match, resolve }));
	}

	/** The first frame of `type` (and on `streamId` when given). */
	waitForType(type: number, streamId?: number): Promise<RawFrame> {
		return this.waitFor(
			(f) =>
				f.type === type && (streamId === undefined || f.streamId === streamId),
		);
	}

	/** Frames of one type received so far. */
	framesOf(type: number): RawFrame[] {
		return this.frames.filter((f) => f.type === type);
	}

	write(...chunks: Buffer[]): void {
		if (!this.socket.destroyed) this.socket.write(Buffer.concat(chunks));
	}

	/** Our SETTINGS (empty unless given) — the first frame a server must send. */
	sendSettings(entries: readonly (readonly [number, number])[] = []): void {
		this.write(settingsFrame(entries));
	}

	destroy(): void {
		this.socket.destroy();
	}

	private onData(chunk: Buffer): void {
		this.buffer = Buffer.concat([this.buffer, chunk]);
		if (this.prefaceOk === undefined) {
			if (this.buffer.length < CLIENT_PREFACE.length) return;
			this.prefaceOk = this.buffer
				.subarray(0, CLIENT_PREFACE.length)
				.equals(CLIENT_PREFACE);
			this.buffer = this.buffer.subarray(CLIENT_PREFACE.length);
		}
		while (this.buffer.length >= FRAME_HEADER_BYTES) {
			const length = this.buffer.readUIntBE(0, 3);
			if (this.buffer.length < FRAME_HEADER_BYTES + length) return;
			const f: RawFrame = {
				type: this.buffer[3] as number,
				flags: this.buffer[4] as number,
				streamId: this.buffer.readUInt32BE(5) & 0x7fff_ffff,
				payload: Buffer.from(
					this.buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length),
				),
			};
			this.buffer = this.buffer.subarray(FRAME_HEADER_BYTES + length);
			this.frames.push(f);
			for (const listener of this.frameListeners) listener(f);
			const ready = this.waiters.filter((w) => w.match(f));
			this.waiters = this.waiters.filter((w) => !w.match(f));
			for (const w of ready) w.resolve(f);
		}
	}
}

/** A `net` server handing each connection to `onConnection`; `close()` destroys every socket it accepted. */
export class RawHttp2Server {
	readonly connections: RawConnection[] = [];
	private connectionWaiters: ((c: RawConnection) => void)[] = [];

	private constructor(
		private readonly server: net.Server,
		readonly port: number,
	) {}

	static async listen(
		onConnection: (connection: RawConnection) => void,
	): Promise<RawHttp2Server> {
		const server = net.createServer();
		server.listen(0, "127.0.0.1");
		await once(server, "listening");
		const raw = new RawHttp2Server(
			server,
			(server.address() as AddressInfo).port,
		);
		server.on("connection", (socket) => {
			const connection = new RawConnection(socket, raw.connections.length);
			raw.connections.push(connection);
			onConnection(connection);
			for (const resolve of raw.connectionWaiters.splice(0))
				resolve(connection);
		});
		return raw;
	}

	/** The connection with this index (0 = first), once it was accepted. */
	connection(index: number): Promise<RawConnection> {
		const existing = this.connections[index];
		if (existing !== undefined) return Promise.resolve(existing);
		return new Promise((resolve) => {
			const wait = (c: RawConnection): void => {
				if (c.index === index) resolve(c);
				else this.connectionWaiters.push(wait);
			};
			this.connectionWaiters.push(wait);
		});
	}

	async close(): Promise<void> {
		for (const connection of this.connections) connection.destroy();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}
}

export function settingsFrame(
	entries: readonly (readonly [number, number])[],
): Buffer {
	const payload = Buffer.alloc(entries.length * 6);
	entries.forEach(([id, value], i) => {
		payload.writeUInt16BE(id, i * 6);
		payload.writeUInt32BE(value, i * 6 + 2);
	});
	return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function settingsAckFrame(): Buffer {
	return frame(FrameType.SETTINGS, FrameFlag.ACK, 0);
}

/** HEADERS with END_HEADERS (plus `extraFlags`) carrying the HPACK-encoded `fields`. */
export function headersFrame(
	streamId: number,
	fields: readonly (readonly [string, string])[],
	extraFlags = 0,
): Buffer {
	return frame(
		FrameType.HEADERS,
		FrameFlag.END_HEADERS | extraFlags,
		streamId,
		encodeHeaderBlock(fields),
	);
}

export function dataFrame(
	streamId: number,
	data: Uint8Array | string,
	flags = 0,
): Buffer {
	return frame(
		FrameType.DATA,
		flags,
		streamId,
		typeof data === "string" ? Buffer.from(data) : data,
	);
}

export function goawayFrame(
	lastStreamId: number,
	code: number,
	debug = "",
): Buffer {
	const payload = Buffer.alloc(8 + Buffer.byteLength(debug));
	payload.writeUInt32BE(lastStreamId, 0);
	payload.writeUInt32BE(code, 4);
	payload.write(debug, 8);
	return frame(FrameType.GOAWAY, 0, 0, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
	const payload = Buffer.alloc(4);
	payload.writeUInt32BE(code, 0);
	return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function pingFrame(payload: Buffer, ack = false): Buffer {
	return frame(FrameType.PING, ack ? FrameFlag.ACK : 0, 0, payload);
}

/** A complete "200 OK, body, END_STREAM" answer on `streamId`. */
export function okResponse(streamId: number, body: string): Buffer {
	return Buffer.concat([
		headersFrame(streamId, [
			[":status", "200"],
			["content-type", "text/plain"],
		]),
		dataFrame(streamId, body, FrameFlag.END_STREAM),
	]);
}

/** GOAWAY payload parts: last stream id, error code, debug text. */
export function parseGoaway(payload: Buffer): {
	lastStreamId: number;
	code: number;
	debug: string;
} {
	return {
		lastStreamId: payload.readUInt32BE(0) & 0x7fff_ffff,
		code: payload.readUInt32BE(4),
		debug: payload.subarray(8).toString("utf8"),
	};
}
