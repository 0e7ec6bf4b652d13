/**
 * Child process for the "an idle client does not keep the process alive" test: makes one request to the
 * HTTP/2 server on 127.0.0.1:<argv[2]> with keep-alive PINGs enabled, prints the answer's status and then simply
 * ends. It never calls close() or process.exit, so the parent can tell whether the client's socket or timers kept
 * the process running.
 */
import * as net from "node:net";
import { encodeHeaderBlock } from "../hpack-encoder.js";
import { Http2Client } from "../http2-client.js";
import type { Http2Fields } from "../http2-client-stream.js";

const port = Number(process.argv[2]);
const client = new Http2Client({
	dial: () => net.connect(port, "127.0.0.1"),
	secure: false,
	keepAliveTimeMs: 50,
	keepAliveTimeoutMs: 1000,
});
let status = "";
client.request(
	encodeHeaderBlock([
		[":method", "POST"],
		[":scheme", "http"],
		[":authority", `127.0.0.1:${port}`],
		[":path", "/idle"],
	]),
	new Uint8Array(0),
	{
		onHeaders(fields: Http2Fields, endStream: boolean) {
			if (!endStream) status = fields[":status"] ?? "";
			else process.stdout.write(`status ${status}\n`);
		},
		onData(_chunk: Buffer, endStream: boolean) {
			if (endStream) process.stdout.write(`status ${status}\n`);
		},
		onFailure(error) {
			process.stdout.write(`failed ${error.message}\n`);
		},
	},
);
