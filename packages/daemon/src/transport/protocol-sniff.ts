/**
 * Tells HTTP/2 (prior knowledge, h2c) from HTTP/1.1 on a cleartext connection by its first bytes, so one port can
 * serve both (toolchain.md §3): the HTTP/2 client preface is a fixed 24-byte string no HTTP/1.1 request starts with.
 */
import type net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Reads until the bytes seen either are the whole HTTP/2 preface or differ from it, puts them back and calls
 * `handOver`. A client that has not decided within `timeoutMs` (silent, or a prefix of the preface and then
 * silence) is dropped.
 */
export function sniff(
	socket: net.Socket,
	timeoutMs: number,
	handOver: (isH2: boolean) => void,
): void {
	if (timeoutMs > 0) socket.setTimeout(timeoutMs, () => socket.destroy());
	const seen: Buffer[] = [];
	let length = 0;
	const onEnd = () => socket.destroy();
	const onReadable = () => {
		for (;;) {
			const chunk: Buffer | null = socket.read();
			if (chunk === null) break;
			seen.push(chunk);
			length += chunk.length;
		}
		const head = Buffer.concat(seen, length);
		const n = Math.min(head.length, PREFACE.length);
		const matches = head.subarray(0, n).equals(PREFACE.subarray(0, n));
		if (matches && n < PREFACE.length) return; // a prefix of the preface: wait for the rest
		socket.off("readable", onReadable);
		socket.off("end", onEnd);
		socket.setTimeout(0);
		socket.unshift(head);
		handOver(matches);
	};
	socket.on("readable", onReadable);
	socket.once("end", onEnd);
}
