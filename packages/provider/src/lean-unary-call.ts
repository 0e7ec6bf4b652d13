/**
 * connect's `runUnaryCall` for a transport that does not need an `AbortSignal` to be told when a call ends.
 *
 * `runUnaryCall` gives every call a deadline `AbortController`, a second one linked to it and to the caller's
 * signal, and aborts the linked one when the call completes (which makes a `DOMException`). On Node 20 that is
 * about 45 µs of CPU per call (bench/provider-transport.bench.ts), more than encoding the request. Here the call's
 * deadline and the caller's signal abort a {@link UnaryCallCancellation} that the transport listens to directly;
 * the request's `signal` is built only when someone reads it (an interceptor, or a request an interceptor copied
 * with `{ ...request }`), and from then on behaves as connect's: aborted with the deadline's or the caller's
 * reason, aborted with the error when the call fails, and aborted without a reason when it succeeds.
 *
 * Everything else is as in `runUnaryCall`: the interceptors are applied per call in connect's order, the message
 * is normalised with `create`, and a failed call rejects with the abort reason when the call was aborted (as a
 * `ConnectError`, code `Canceled` unless the reason is one) and otherwise with `ConnectError.from(error)`.
 */
import {
	create,
	type DescMessage,
	type MessageInitShape,
} from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type Interceptor,
	type UnaryRequest,
	type UnaryResponse,
} from "@connectrpc/connect";
import { getAbortSignalReason } from "@connectrpc/connect/protocol";

/** What a transport listens to instead of the request's signal: the call's deadline and the caller's signal. */
export class UnaryCallCancellation {
	/** Set once the call is aborted (deadline, the caller's signal, or a signal an interceptor substituted). */
	aborted = false;
	/** Why, when {@link aborted}: connect's deadline `ConnectError`, or the signal's reason. */
	reason: unknown = undefined;
	/** The transport's handler; called once, on abort, while set. */
	onAbort: ((reason: unknown) => void) | undefined = undefined;
	private controller: AbortController | undefined = undefined;
	private timer: ReturnType<typeof setTimeout> | undefined = undefined;
	/** Signals the call follows (the caller's, and any an interceptor substituted), to unlink when it ends. */
	private linked: AbortSignal[] | undefined = undefined;
	private finished = false;
	private finishError: ConnectError | undefined = undefined;

	constructor(signal: AbortSignal | undefined, timeoutMs: number | undefined) {
		if (timeoutMs !== undefined) {
			if (timeoutMs <= 0) this.abort(deadlineError());
			else this.timer = setTimeout(onDeadline, timeoutMs, this);
		}
		if (signal !== undefined) this.follow(signal);
	}

	/** The request's signal, made on first use. */
	get signal(): AbortSignal {
		if (this.controller === undefined) {
			this.controller = new AbortController();
			if (this.aborted) this.controller.abort(this.reason);
			else if (this.finished)
				this.controller.abort(this.finishError ?? undefined);
		}
		return this.controller.signal;
	}

	/** Aborts the call when `signal` aborts (now, if it already has). */
	follow(signal: AbortSignal): void {
		if (this.finished || this.aborted) return;
		if (this.controller !== undefined && signal === this.controller.signal)
			return;
		if (signal.aborted) {
			this.abort(getAbortSignalReason(signal));
			return;
		}
		signal.addEventListener("abort", this);
		if (this.linked === undefined) this.linked = [signal];
		else this.linked.push(signal);
	}

	/** EventTarget listener of the followed signals. */
	handleEvent(event: Event): void {
		this.abort(getAbortSignalReason(event.target as AbortSignal));
	}

	abort(reason: unknown): void {
		if (this.finished || this.aborted) return;
		this.aborted = true;
		this.reason = reason;
		this.controller?.abort(reason);
		const onAbort = this.onAbort;
		this.onAbort = undefined;
		onAbort?.(reason);
	}

	/** Ends the call: stops the deadline, unlinks the signals, aborts the request's signal as connect does. */
	finish(error: ConnectError | undefined): void {
		if (this.finished) return;
		this.finished = true;
		this.finishError = error;
		this.onAbort = undefined;
		if (this.timer !== undefined) clearTimeout(this.timer);
		if (this.linked !== undefined)
			for (const s of this.linked) s.removeEventListener("abort", this);
		if (this.controller !== undefined && !this.controller.signal.aborted) {
			if (error === undefined) this.controller.abort();
			else this.controller.abort(error);
		}
	}
}

function onDeadline(call: UnaryCallCancellation): void {
	call.abort(deadlineError());
}

/** connect's deadline error (protocol/signals.ts). */
function deadlineError(): ConnectError {
	return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/** A unary request whose `signal` is built on first read (see the file comment). */
class LeanUnaryRequest<I extends DescMessage, O extends DescMessage>
	implements UnaryRequest<I, O>
{
	readonly stream = false as const;
	readonly service: UnaryRequest<I, O>["service"];
	readonly method: UnaryRequest<I, O>["method"];
	readonly requestMethod: string;
	readonly url: string;
	readonly header: Headers;
	readonly contextValues: UnaryRequest<I, O>["contextValues"];
	readonly message: UnaryRequest<I, O>["message"];
	readonly cancellation: UnaryCallCancellation;

	constructor(
		init: Omit<UnaryRequest<I, O>, "signal" | "stream">,
		cancellation: UnaryCallCancellation,
	) {
		this.service = init.service;
		this.method = init.method;
		this.requestMethod = init.requestMethod;
		this.url = init.url;
		this.header = init.header;
		this.contextValues = init.contextValues;
		this.message = init.message;
		this.cancellation = cancellation;
	}

	get signal(): AbortSignal {
		return this.cancellation.signal;
	}
}

/** Options of {@link runLeanUnaryCall}. */
export interface LeanUnaryCallOptions<
	I extends DescMessage,
	O extends DescMessage,
> {
	readonly interceptors: readonly Interceptor[];
	/** The caller's signal. */
	readonly signal: AbortSignal | undefined;
	/** The call's deadline; `undefined` for none, ≤ 0 for one already passed. */
	readonly timeoutMs: number | undefined;
	/** The request without its signal; `message` may be an init shape (it is normalised with `create`). */
	readonly req: Omit<UnaryRequest<I, O>, "signal" | "stream" | "message"> & {
		readonly message: MessageInitShape<I>;
	};
	/**
	 * Sends the request the interceptors pass on. `cancellation` aborts when the call does (its `onAbort` is the
	 * transport's to set); the request's own signal need not be read.
	 */
	readonly next: (
		req: UnaryRequest<I, O>,
		cancellation: UnaryCallCancellation,
	) => Promise<UnaryResponse<I, O>>;
}

/** See the file comment. */
export function runLeanUnaryCall<I extends DescMessage, O extends DescMessage>(
	opt: LeanUnaryCallOptions<I, O>,
): Promise<UnaryResponse<I, O>> {
	// Before the deadline is armed: create() throws for a malformed message.
	const message = create(opt.req.method.input, opt.req.message);
	const cancellation = new UnaryCallCancellation(opt.signal, opt.timeoutMs);
	const request = new LeanUnaryRequest<I, O>(
		{
			service: opt.req.service,
			method: opt.req.method,
			requestMethod: opt.req.requestMethod,
			url: opt.req.url,
			header: opt.req.header,
			contextValues: opt.req.contextValues,
			message,
		},
		cancellation,
	);
	let next = (req: UnaryRequest<I, O>): Promise<UnaryResponse<I, O>> => {
		// An interceptor may have passed on a request with a signal of its own: it bounds the call too.
		if (req !== request) cancellation.follow(req.signal);
		return opt.next(req, cancellation);
	};
	// connect's applyInterceptors: the first interceptor is the outermost, and each is applied per call.
	for (let i = opt.interceptors.length - 1; i >= 0; i--)
		next = (opt.interceptors[i] as Interceptor)(next as never) as never;
	let pending: Promise<UnaryResponse<I, O>>;
	try {
		pending = next(request);
	} catch (err: unknown) {
		// connect's transports are async functions: an interceptor that throws rejects the call, never throws.
		const error = ConnectError.from(err);
		cancellation.finish(error);
		return Promise.reject(error);
	}
	return pending.then(
		(response) => {
			cancellation.finish(undefined);
			return response;
		},
		(reason: unknown) => {
			const error = cancellation.aborted
				? ConnectError.from(cancellation.reason, Code.Canceled)
				: ConnectError.from(reason);
			cancellation.finish(error);
			throw error;
		},
	);
}
