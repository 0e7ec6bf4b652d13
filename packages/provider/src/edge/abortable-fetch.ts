/**
 * Wraps `fetch` so that aborting a call also ends a response body that is being read. Deno 2 (over HTTP/1.1)
 * leaves a pending read of an aborted response's body waiting until the server sends its next chunk, so closing
 * the provider would wait for the daemon's next keepalive on the event stream. Here the body is read through a
 * stream we own: on abort it errors at once and the runtime's body is cancelled, which releases the connection.
 */
export function abortableFetch(
	fetchImpl: typeof globalThis.fetch,
): typeof globalThis.fetch {
	return async (input, init) => {
		const response = await fetchImpl(input, init);
		const signal = init?.signal;
		if (signal === undefined || signal === null || response.body === null)
			return response;
		return new Response(abortableBody(response.body, signal), {
			status: response.status,
			statusText: response.statusText,
			headers: response.headers,
		});
	};
}

function abortableBody(
	body: ReadableStream<Uint8Array>,
	signal: AbortSignal,
): ReadableStream<Uint8Array> {
	const reader = body.getReader();
	let onAbort: (() => void) | undefined;
	const release = () => {
		if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
	};
	return new ReadableStream<Uint8Array>({
		start(controller) {
			onAbort = () => {
				release();
				controller.error(signal.reason);
				reader.cancel(signal.reason).catch(() => undefined);
			};
			if (signal.aborted) onAbort();
			else signal.addEventListener("abort", onAbort, { once: true });
		},
		async pull(controller) {
			try {
				const chunk = await reader.read();
				if (signal.aborted) return;
				if (chunk.done) {
					release();
					controller.close();
				} else controller.enqueue(chunk.value);
			} catch (error: unknown) {
				release();
				if (!signal.aborted) controller.error(error);
			}
		},
		cancel(reason) {
			release();
			return reader.cancel(reason);
		},
	});
}
