/**
 * Raw-socket helpers for the daemon's transport tests: awaiting events with a bound, raw TCP clients, waiting for
 * the daemon to close a connection, and hand-made HTTP/2 frames (HPACK literals and static-table entries only) for
 * clients that misbehave on purpose, which no well-kept client library will do.
 */
import { readdirSync } from "node:fs";
import net from "node:net";

export const MiB = 1024 * 1024;

/** Resolves when `emitter` emits `event`, or rejects after `timeoutMs` naming `what`. */
export function once<T = unknown>(
	emitter: NodeJS.EventEmitter,
	event: string,
	timeoutMs: number,
	what: string,
): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() =>
				reject(
					new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
				),
			timeoutMs,
		);
		// Unref'd: a wait that lost a race must not keep Jest alive.
		timer.unref();
		emitter.once(event, (value: T) => {
			clearTimeout(timer);
			resolve(value);
		});
	});
}

/** A raw TCP client; resolves once connected. */
export async function connectRaw(port: number): Promise<net.Socket> {
	const socket = net.connect(port, "127.0.0.1");
	socket.on("error", () => {});
	socket.on("data", () => {});
	await once(socket, "connect", 5_000, "TCP connect");
	return socket;
}

/** Resolves with how long the server took to close `socket` (the client never closes it). */
export async function closedByServer(
	socket: net.Socket,
	timeoutMs: number,
): Promise<number> {
	const start = Date.now();
	if (!socket.destroyed)
		await once(socket, "close", timeoutMs, "the daemon to close the socket");
	return Date.now() - start;
}

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
/** A DATA frame on stream 0: a connection error (PROTOCOL_ERROR) in HTTP/2. */
export const DATA_ON_STREAM_0 = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41]);

export const HEADERS = 1;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const GOAWAY = 7;

export interface Frame {
	readonly type: number;
	readonly flags: number;
	readonly streamId: number;
	readonly payload: Buffer;
}

/** Collects the HTTP/2 frames a raw client socket receives (the daemon's side of the conversation). */
export class FrameReader {
	readonly frames: Frame[] = [];
	#buffer = Buffer.alloc(0);
	#waiters: Array<() => void> = [];

	constructor(socket: net.Socket) {
		socket.on("data", (chunk: Buffer) => {
			this.#buffer = Buffer.concat([this.#buffer, chunk]);
			while (this.#buffer.length >= 9) {
				const length = this.#buffer.readUIntBE(0, 3);
				if (this.#buffer.length < 9 + length) break;
				this.frames.push({
					type: this.#buffer[3] as number,
					flags: this.#buffer[4] as number,
					streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
					payload: this.#buffer.subarray(9, 9 + length),
				});
				this.#buffer = this.#buffer.subarray(9 + length);
			}
			for (const wake of this.#waiters.splice(0)) wake();
		});
	}

	/** Resolves with the first frame matching `predicate`, waiting for more frames up to 5 s. */
	async waitFor(
		predicate: (f: Frame) => boolean,
		what: string,
	): Promise<Frame> {
		const deadline = Date.now() + 5_000;
		for (;;) {
			const found = this.frames.find(predicate);
			if (found !== undefined) return found;
			if (Date.now() > deadline)
				throw new Error(
					`no frame: ${what}; got ${JSON.stringify(this.frames.map((f) => [f.type, f.flags, f.streamId, f.payload.toString("hex").slice(0, 40)]))}`,
				);
			await new Promise<void>((resolve) => {
				this.#waiters.push(resolve);
				setTimeout(resolve, 100).unref();
			});
		}
	}
}

export function frame(
	type: number,
	flags: number,
	streamId: number,
	payload: Buffer,
): Buffer {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(streamId, 5);
	return Buffer.concat([header, payload]);
}

/** HPACK literal header field without indexing, new name. */
export function literal(name: string, value: string): Buffer {
	return Buffer.concat([
		Buffer.from([0x00, name.length]),
		Buffer.from(name),
		Buffer.from([value.length]),
		Buffer.from(value),
	]);
}

/** HEADERS (END_STREAM | END_HEADERS) for `GET /` (static table entries 2, 6, 4). */
export function getRequest(streamId: number): Buffer {
	return frame(
		HEADERS,
		0x05,
		streamId,
		Buffer.from([0x82, 0x86, 0x84, 0x41, 0x01, 0x78]),
	);
}

/** HEADERS (END_HEADERS only: the request body never comes) for a gRPC POST to `path`. */
export function openGrpcStream(streamId: number, path: string): Buffer {
	const block = Buffer.concat([
		Buffer.from([0x83, 0x86]), // :method POST, :scheme http
		Buffer.from([0x44, path.length]), // :path, literal value
		Buffer.from(path),
		Buffer.from([0x41, 0x01, 0x78]), // :authority x
		literal("content-type", "application/grpc"),
		literal("te", "trailers"),
	]);
	return frame(HEADERS, 0x04, streamId, block);
}

export function openDescriptors(): number {
	return readdirSync("/proc/self/fd").length;
}
