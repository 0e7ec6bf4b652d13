/**
 * A deadline for the request body of every HTTP/2 request, as Go's `http.Server.ReadTimeout` gives flagd: a
 * client that opens a stream and never finishes (or trickles) its body cannot hold the stream. HTTP/1.1 gets the
 * same limit from Node's `requestTimeout` (connection-limits.ts).
 *
 * When the deadline passes before the body ended, the request is failed with a DEADLINE_EXCEEDED ConnectError,
 * so whoever reads the body (connect, a direct path) answers it in the request's own protocol (gRPC status,
 * Connect error, gRPC-web trailers); once that answer is written, or after a short grace if nobody answers, the
 * stream is reset (RST_STREAM NO_ERROR / CANCEL) so the client's unsent body is not waited for.
 *
 * Every request of a listener has the same timeout, so deadlines expire in arrival order: one queue and one timer
 * per listener (armed for the oldest pending deadline) replace a timer and two listeners per stream, a cost every
 * unary call paid although its body almost always ends within microseconds. A request leaves the queue when it
 * reaches the head finished (body ended or stream closed); the queue drops finished requests wherever they are
 * once it holds twice as many as it did after the last such pass, so a stream that stays open for the whole
 * timeout keeps at most as many finished requests behind it as are open.
 */
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";

/** After failing the body, the handler gets this long to answer before the stream is reset without an answer. */
const ANSWER_GRACE_MS = 1_000;
/** The queue is first swept of finished requests at this length. */
const MIN_SWEEP_LENGTH = 256;

/** What a body deadline watches: node:http2's compatibility request, or a StreamRequest (stream-request.ts). */
export interface DeadlineRequest {
	readonly stream: http2.ServerHttp2Stream;
	readonly readableEnded: boolean;
	destroy(err: Error): unknown;
}

/** Whether the request no longer needs its deadline: its body ended or its stream is gone. */
function finished(req: DeadlineRequest): boolean {
	const stream = req.stream;
	return req.readableEnded || stream.destroyed || stream.closed;
}

/** The pending body deadlines of one listener, oldest first (see the file comment). */
export class BodyDeadlines {
	readonly #timeoutMs: number;
	/** Requests in arrival order from `#head`; `#deadlines[i]` is `#requests[i]`'s deadline (performance.now()). */
	#requests: (DeadlineRequest | undefined)[] = [];
	#deadlines: number[] = [];
	#head = 0;
	#sweepAt = MIN_SWEEP_LENGTH;
	#timer: NodeJS.Timeout | undefined;

	constructor(timeoutMs: number) {
		this.#timeoutMs = timeoutMs;
	}

	/** Requests held (pending, or finished and not yet dropped). */
	get size(): number {
		return this.#requests.length - this.#head;
	}

	/** Starts the body deadline of `req`. */
	watch(req: DeadlineRequest): void {
		this.#dropFinishedHead();
		this.#requests.push(req);
		this.#deadlines.push(performance.now() + this.#timeoutMs);
		if (this.size >= this.#sweepAt) this.#sweep();
		if (this.#timer === undefined) this.#arm();
	}

	#dropFinishedHead(): void {
		const requests = this.#requests;
		let head = this.#head;
		while (
			head < requests.length &&
			finished(requests[head] as DeadlineRequest)
		)
			requests[head++] = undefined;
		if (head === requests.length) {
			requests.length = 0;
			this.#deadlines.length = 0;
			head = 0;
		} else if (head > 1024 && head * 2 > requests.length) {
			requests.splice(0, head);
			this.#deadlines.splice(0, head);
			head = 0;
		}
		this.#head = head;
	}

	/** Drops every finished request; the next sweep comes when the queue has doubled. */
	#sweep(): void {
		const requests: (DeadlineRequest | undefined)[] = [];
		const deadlines: number[] = [];
		for (let i = this.#head; i < this.#requests.length; i++) {
			const req = this.#requests[i] as DeadlineRequest;
			if (finished(req)) continue;
			requests.push(req);
			deadlines.push(this.#deadlines[i] as number);
		}
		this.#requests = requests;
		this.#deadlines = deadlines;
		this.#head = 0;
		this.#sweepAt = Math.max(MIN_SWEEP_LENGTH, requests.length * 2);
	}

	/** Arms the timer for the oldest deadline (none when nothing is pending). */
	#arm(): void {
		if (this.#head === this.#requests.length) return;
		const delay = Math.max(
			0,
			(this.#deadlines[this.#head] as number) - performance.now(),
		);
		this.#timer = setTimeout(this.#expire, Math.ceil(delay));
		this.#timer.unref();
	}

	readonly #expire = (): void => {
		this.#timer = undefined;
		const now = performance.now();
		const requests = this.#requests;
		while (this.#head < requests.length) {
			const req = requests[this.#head] as DeadlineRequest;
			if (!finished(req)) {
				if ((this.#deadlines[this.#head] as number) > now) break;
				fail(req, this.#timeoutMs);
			}
			requests[this.#head] = undefined;
			this.#head++;
		}
		this.#dropFinishedHead();
		this.#arm();
	};
}

/** Fails a request whose body did not end in time, then resets its stream once answered (see the file comment). */
function fail(req: DeadlineRequest, timeoutMs: number): void {
	const stream = req.stream;
	const reset = (code: number) => {
		if (!stream.destroyed && !stream.closed) stream.close(code);
	};
	const backstop = setTimeout(
		() => reset(http2.constants.NGHTTP2_CANCEL),
		ANSWER_GRACE_MS,
	);
	backstop.unref();
	stream.once("close", () => clearTimeout(backstop));
	// Reset once the whole answer, trailers included, has been handed to HTTP/2 (our side closed), so the client
	// reads it first. The response's "finish" comes only after the stream closed, and the stream's before the
	// trailers, so the stream state is checked (a few ms at most; the backstop bounds it).
	const answered = () => {
		if (stream.destroyed || stream.closed) return;
		if (stream.state.localClose === 1) reset(http2.constants.NGHTTP2_NO_ERROR);
		else setTimeout(answered, 5).unref();
	};
	if (stream.writableFinished) answered();
	else stream.once("finish", answered);
	req.destroy(
		new ConnectError(
			`request body not received within ${timeoutMs} ms`,
			Code.DeadlineExceeded,
		),
	);
}
