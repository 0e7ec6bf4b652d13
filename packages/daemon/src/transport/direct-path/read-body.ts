/**
 * Reads a request body for a direct path: buffered while it stays within `maxBytes`; the moment it grows past
 * that, or at the end when `accept` declines it, the request goes to connect with the bytes already read (and the
 * rest still to come), so connect words the answer. A body that fails (the request body deadline) goes to connect
 * too, which answers with the failure.
 */
import type { DirectRequest, DirectResponse } from "./direct-request.js";
import type { DirectPathOptions } from "./direct-route.js";

/** See the file comment. */
export function readBody(
	req: DirectRequest,
	res: DirectResponse,
	options: DirectPathOptions,
	maxBytes: number,
	accept: (body: Buffer) => boolean,
	onBody: (body: Buffer) => void,
): void {
	const chunks: Buffer[] = [];
	let received = 0;
	const onData = (chunk: Buffer) => {
		chunks.push(chunk);
		received += chunk.length;
		if (received > maxBytes) {
			req.off("data", onData);
			req.off("end", onEnd);
			req.off("error", onError);
			req.pause();
			options.fallback(req, res, chunks, true);
		}
	};
	const onError = () => {
		req.off("data", onData);
		req.off("end", onEnd);
		// `rest`: reading on from the failed request rethrows its error, which connect answers.
		options.fallback(req, res, chunks, true);
	};
	const onEnd = () => {
		req.off("data", onData);
		req.off("error", onError);
		const body =
			chunks.length === 1
				? (chunks[0] as Buffer)
				: Buffer.concat(chunks, received);
		if (accept(body)) onBody(body);
		else options.fallback(req, res, chunks, false);
	};
	// Each path removes the other listeners; `on` spares two once-wrappers per request.
	req.on("data", onData);
	req.on("end", onEnd);
	req.on("error", onError);
}
