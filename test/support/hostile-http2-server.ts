/**
 * A raw TCP server on 127.0.0.1 that speaks bad HTTP/2 on purpose, for hostile-peer tests of clients. Frames are
 * built byte by byte here, in test code only (the product uses node:http2 and never frames HTTP/2 itself).
 *
 * Behaviours (one per server):
 * - `ping-flood`: SETTINGS, then PING frames as fast as the socket takes them, until the client goes away.
 * - `settings-flood`: SETTINGS, then SETTINGS frames (each needing an ACK) as fast as the socket takes them.
 * - `huge-headers`: answers every request stream with a 10 MB header list (HEADERS + CONTINUATION frames).
 * - `endless-continuation`: answers every request stream with HEADERS and CONTINUATION frames that never end it.
 * - `window-overflow`: SETTINGS, then WINDOW_UPDATEs that push the connection window past 2^31-1.
 * - `never-reads`: accepts, sends SETTINGS, then never reads a byte nor answers.
 * - `garbage`: SETTINGS, then random bytes.
 *
 * Every flood writes only while the socket drains (no unbounded buffering in the test process) and stops after
 * `maxBytes` or when the client closes. `close()` destroys every connection and the listener.
 */
import { randomBytes } from "node:crypto";
import * as net from "node:net";

/** What the server does; see the file comment. */
export type HostileBehaviour =
	| "ping-flood"
	| "settings-flood"
	| "huge-headers"
	| "endless-continuation"
	| "window-overflow"
	| "never-reads"
	| "garbage";

export const HOSTILE_BEHAVIOURS: readonly HostileBehaviour[] = [
	"ping-flood",
	"settings-flood",
	"huge-headers",
	"endless-continuation",
	"window-overflow",
	"never-reads",
	"garbage",
];

/** A running hostile server. */
export interface HostileServer {
	readonly port: number;
	/** Connections currently open. */
	readonly openConnections: number;
	/** Connections accepted since start. */
	readonly acceptedConnections: number;
	/**
	 * Resolves once every connection has been closed by the client (or rejects after `timeoutMs`). A `never-reads`
	 * server reads every connection while this waits (those accepted meanwhile too), so it sees the client's FIN or
	 * RST; afterwards new connections are left unread again.
	 */
	waitForNoConnections(timeoutMs: number): Promise<void>;
	close(): Promise<void>;
}

const FRAME = {
	DATA: 0x0,
	HEADERS: 0x1,
	SETTINGS: 0x4,
	PING: 0x6,
	WINDOW_UPDATE: 0x8,
	CONTINUATION: 0x9,
} as const;
const END_HEADERS = 0x4;
const CLIENT_PREFACE_LENGTH = 24;

/** One HTTP/2 frame: 9-byte header (length, type, flags, stream id) and the payload. */
export function frame(
	type: number,
	flags: number,
	streamId: number,
	payload: Uint8Array = new Uint8Array(0),
): Buffer {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(streamId & 0x7fffffff, 5);
	return Buffer.concat([header, payload]);
}

/** An HPACK "literal header field without indexing, new name" (no Huffman); lengths < 127 only. */
function literalField(name: string, value: string): Buffer {
	const n = Buffer.from(name);
	const v = Buffer.from(value);
	if (n.length >= 127 || v.length >= 127)
		throw new Error("literalField: too long");
	return Buffer.concat([
		Buffer.from([0x00, n.length]),
		n,
		Buffer.from([v.length]),
		v,
	]);
}

/** `:status: 200` as an indexed field (static table entry 8). */
const STATUS_200 = Buffer.from([0x88]);

/** Stream ids of the HEADERS frames the client sent in `chunk` (client streams are odd). */
function requestStreamIds(
	chunk: Buffer,
	state: { buffered: Buffer },
): number[] {
	let data = Buffer.concat([state.buffered, chunk]);
	const ids: number[] = [];
	while (data.length >= 9) {
		const length = data.readUIntBE(0, 3);
		if (data.length < 9 + length) break;
		const type = data[3];
		const id = data.readUInt32BE(5) & 0x7fffffff;
		if (type === FRAME.HEADERS && id % 2 === 1) ids.push(id);
		data = data.subarray(9 + length);
	}
	state.buffered = Buffer.from(data);
	return ids;
}

/** Starts a hostile server with one behaviour. `maxBytes` bounds what a flood writes per connection. */
export async function startHostileServer(
	behaviour: HostileBehaviour,
	options: { maxBytes?: number } = {},
): Promise<HostileServer> {
	const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
	const sockets = new Set<net.Socket>();
	let accepted = 0;
	const readToEnd = (socket: net.Socket): void => {
		socket.on("data", () => {});
		socket.resume();
	};
	const idleWaiters = new Set<() => void>();
	const server = net.createServer((socket) => {
		accepted++;
		sockets.add(socket);
		socket.on("error", () => {});
		socket.on("close", () => {
			sockets.delete(socket);
			if (sockets.size === 0) for (const w of idleWaiters) w();
		});
		serve(behaviour, socket, maxBytes);
		// While waitForNoConnections waits, a connection accepted meanwhile is read too: the client may have
		// connected and closed before this process got to accept it, and a socket that is not read never sees its FIN.
		if (idleWaiters.size > 0) readToEnd(socket);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const port = (server.address() as net.AddressInfo).port;
	return {
		port,
		get openConnections() {
			return sockets.size;
		},
		get acceptedConnections() {
			return accepted;
		},
		waitForNoConnections(timeoutMs) {
			for (const s of sockets) readToEnd(s);
			if (sockets.size === 0) return Promise.resolve();
			return new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => {
					idleWaiters.delete(done);
					reject(
						new Error(
							`${sockets.size} connection(s) still open after ${timeoutMs} ms`,
						),
					);
				}, timeoutMs);
				const done = (): void => {
					clearTimeout(timer);
					idleWaiters.delete(done);
					resolve();
				};
				idleWaiters.add(done);
			});
		},
		async close() {
			for (const s of sockets) s.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

function serve(
	behaviour: HostileBehaviour,
	socket: net.Socket,
	maxBytes: number,
): void {
	const settings = frame(FRAME.SETTINGS, 0, 0);
	let written = 0;
	// Floods waiting for the socket to drain (one per answered stream): one 'drain' listener serves them all.
	const waiting: Array<() => void> = [];
	socket.on("drain", () => {
		for (const pump of waiting.splice(0)) pump();
	});
	/** Writes `next()` chunks while the socket drains, up to maxBytes, until the socket closes or next() ends. */
	const flood = (next: () => Buffer | undefined): void => {
		const pump = (): void => {
			while (!socket.destroyed && written < maxBytes) {
				const chunk = next();
				if (chunk === undefined) return;
				written += chunk.length;
				if (!socket.write(chunk)) {
					waiting.push(pump);
					return;
				}
			}
		};
		pump();
	};
	switch (behaviour) {
		case "never-reads":
			socket.pause();
			socket.write(settings);
			return;
		case "ping-flood": {
			socket.resume();
			const ping = frame(FRAME.PING, 0, 0, Buffer.alloc(8));
			const batch = Buffer.concat(Array.from({ length: 2000 }, () => ping));
			socket.write(settings);
			flood(() => batch);
			return;
		}
		case "settings-flood": {
			socket.resume();
			// SETTINGS_MAX_CONCURRENT_STREAMS = 100, repeated: each frame needs an ACK.
			const payload = Buffer.from([0x00, 0x03, 0x00, 0x00, 0x00, 0x64]);
			const one = frame(FRAME.SETTINGS, 0, 0, payload);
			const batch = Buffer.concat(Array.from({ length: 2000 }, () => one));
			socket.write(settings);
			flood(() => batch);
			return;
		}
		case "window-overflow": {
			socket.resume();
			const increment = Buffer.alloc(4);
			increment.writeUInt32BE(0x7fffffff);
			socket.write(
				Buffer.concat([
					settings,
					frame(FRAME.WINDOW_UPDATE, 0, 0, increment),
					frame(FRAME.WINDOW_UPDATE, 0, 0, increment),
				]),
			);
			return;
		}
		case "garbage":
			socket.resume();
			socket.write(Buffer.concat([settings, randomBytes(64 * 1024)]));
			return;
		case "huge-headers":
		case "endless-continuation": {
			socket.write(settings);
			const state = { buffered: Buffer.alloc(0) };
			let prefaceLeft = CLIENT_PREFACE_LENGTH;
			socket.on("data", (chunk: Buffer) => {
				let data = chunk;
				if (prefaceLeft > 0) {
					const skip = Math.min(prefaceLeft, data.length);
					prefaceLeft -= skip;
					data = data.subarray(skip);
				}
				for (const id of requestStreamIds(data, state)) {
					answerWithEndlessHeaders(
						id,
						behaviour === "huge-headers" ? 10 * 1024 * 1024 : undefined,
						flood,
					);
				}
			});
			return;
		}
	}
}

/**
 * HEADERS (no END_HEADERS) then CONTINUATION frames of ~16 KB literal fields: up to `totalBytes`, the last frame
 * carrying END_HEADERS, or without end when `totalBytes` is undefined.
 */
function answerWithEndlessHeaders(
	streamId: number,
	totalBytes: number | undefined,
	flood: (next: () => Buffer | undefined) => void,
): void {
	const field = literalField("x-filler", "f".repeat(120));
	const block = Buffer.concat(
		Array.from({ length: Math.floor(16000 / field.length) }, () => field),
	);
	let sent = 0;
	let first = true;
	flood(() => {
		if (totalBytes !== undefined && sent >= totalBytes) return undefined;
		sent += block.length;
		const last = totalBytes !== undefined && sent >= totalBytes;
		const flags = last ? END_HEADERS : 0;
		if (first) {
			first = false;
			return frame(
				FRAME.HEADERS,
				flags,
				streamId,
				Buffer.concat([STATUS_200, block]),
			);
		}
		return frame(FRAME.CONTINUATION, flags, streamId, block);
	});
}
