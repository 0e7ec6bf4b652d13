/**
 * runLeanUnaryCall against connect's runUnaryCall, both driving the same `next` (a function standing in for the
 * transport's send; no network is involved at this layer, the transport itself is tested against a real server in
 * test/integration/provider-grpc-unary-transport.test.ts): interceptor order, the request's signal when it is read
 * (during, after success, after failure, at the deadline, on the caller's signal), and the errors calls end with.
 */
import { getEventListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	createContextValues,
	type Interceptor,
	type UnaryRequest,
	type UnaryResponse,
} from "@connectrpc/connect";
import { runUnaryCall } from "@connectrpc/connect/protocol";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import { describe, expect, it, jest } from "@jest/globals";
import {
	runLeanUnaryCall,
	type UnaryCallCancellation,
} from "./lean-unary-call.js";

const method = EvaluationServiceV2.method.resolveBoolean;
type I = typeof method.input;
type O = typeof method.output;
type Send = (
	req: UnaryRequest<I, O>,
	cancellation: UnaryCallCancellation | undefined,
) => Promise<UnaryResponse<I, O>>;

function answer(req: UnaryRequest<I, O>): UnaryResponse<I, O> {
	return {
		stream: false,
		service: req.service,
		method: req.method,
		header: new Headers(),
		trailer: new Headers(),
		message: create(method.output, { value: true, reason: "STATIC" }),
	};
}

/** A send that answers after `waitMs`, or ends with the call's abort (through the signal for connect's). */
function sendAfter(waitMs: number): Send {
	return (req, cancellation) =>
		new Promise((resolve, reject) => {
			const timer = setTimeout(() => resolve(answer(req)), waitMs);
			const onAbort = (reason: unknown): void => {
				clearTimeout(timer);
				reject(ConnectError.from(reason, Code.Canceled));
			};
			if (cancellation === undefined) {
				const signal = req.signal;
				if (signal.aborted) onAbort(signal.reason);
				else signal.addEventListener("abort", () => onAbort(signal.reason));
			} else if (cancellation.aborted) onAbort(cancellation.reason);
			else cancellation.onAbort = onAbort;
		});
}

type Runner = (opt: {
	interceptors: Interceptor[];
	signal?: AbortSignal;
	timeoutMs?: number;
	send: Send;
}) => Promise<UnaryResponse<I, O>>;

const req = () => ({
	service: method.parent,
	method,
	requestMethod: "POST",
	url: "http://127.0.0.1:1/flagd.evaluation.v2.Service/ResolveBoolean",
	header: new Headers(),
	contextValues: createContextValues(),
	message: { flagKey: "f" },
});

const runners: [string, Runner][] = [
	[
		"lean",
		(o) =>
			runLeanUnaryCall<I, O>({
				interceptors: o.interceptors,
				signal: o.signal,
				timeoutMs: o.timeoutMs,
				req: req(),
				next: (r, c) => o.send(r, c),
			}),
	],
	[
		"connect",
		(o) =>
			runUnaryCall<I, O>({
				interceptors: o.interceptors,
				signal: o.signal,
				timeoutMs: o.timeoutMs,
				req: { stream: false, ...req() },
				next: (r) => o.send(r, undefined),
			}),
	],
];

async function outcome(p: Promise<unknown>): Promise<unknown> {
	return p.then(
		() => "ok",
		(e: unknown) => {
			const err = ConnectError.from(e);
			return `${Code[err.code]}: ${err.rawMessage}`;
		},
	);
}

describe.each(runners)(
	"runLeanUnaryCall like connect's runUnaryCall (%s)",
	(_, run) => {
		it("applies interceptors first-outermost, once per call, with a normalised message", async () => {
			const order: string[] = [];
			const tag =
				(name: string): Interceptor =>
				(next) => {
					order.push(`apply ${name}`);
					return (r) => {
						order.push(
							`${name}:${(r.message as unknown as { flagKey: string }).flagKey}`,
						);
						return next(r);
					};
				};
			const interceptors = [tag("a"), tag("b")];
			await run({ interceptors, send: sendAfter(0) });
			await run({ interceptors, send: sendAfter(0) });
			expect(order).toEqual([
				"apply b",
				"apply a",
				"a:f",
				"b:f",
				"apply b",
				"apply a",
				"a:f",
				"b:f",
			]);
		});

		it("aborts a read signal when the call ends: without reason on success, with the error on failure", async () => {
			let seen: UnaryRequest | undefined;
			const keep: Interceptor = (next) => (r) => {
				seen = r as UnaryRequest;
				return next(r);
			};
			await run({ interceptors: [keep], send: sendAfter(0) });
			const afterSuccess = seen?.signal as AbortSignal;
			expect(afterSuccess.aborted).toBe(true);
			expect((afterSuccess.reason as Error).name).toBe("AbortError");
			const failing: Send = () =>
				Promise.reject(new ConnectError("nope", Code.NotFound));
			expect(await outcome(run({ interceptors: [keep], send: failing }))).toBe(
				"NotFound: nope",
			);
			const afterFailure = seen?.signal as AbortSignal;
			expect(afterFailure.aborted).toBe(true);
			expect(ConnectError.from(afterFailure.reason).code).toBe(Code.NotFound);
		});

		it("ends the call at its deadline; a signal read during the call aborts with the deadline error", async () => {
			let duringCall: AbortSignal | undefined;
			const read: Interceptor = (next) => (r) => {
				duringCall = r.signal;
				expect(r.signal.aborted).toBe(false);
				return next(r);
			};
			expect(
				await outcome(
					run({ interceptors: [read], timeoutMs: 20, send: sendAfter(60_000) }),
				),
			).toBe("DeadlineExceeded: the operation timed out");
			expect(duringCall?.aborted).toBe(true);
			expect(ConnectError.from(duringCall?.reason).code).toBe(
				Code.DeadlineExceeded,
			);
		});

		it("ends the call on the caller's signal, and stops listening to it afterwards", async () => {
			const controller = new AbortController();
			const call = outcome(
				run({
					interceptors: [],
					signal: controller.signal,
					send: sendAfter(60_000),
				}),
			);
			controller.abort(new Error("user gave up"));
			expect(await call).toBe("Canceled: user gave up");
			const pre = new AbortController();
			pre.abort();
			expect(
				await outcome(
					run({ interceptors: [], signal: pre.signal, send: sendAfter(0) }),
				),
			).toMatch(/^Canceled: /);
			const kept = new AbortController();
			await run({ interceptors: [], signal: kept.signal, send: sendAfter(0) });
			expect(getEventListeners(kept.signal, "abort")).toHaveLength(0);
		});

		it("ends the call on a signal an interceptor substituted", async () => {
			const own = new AbortController();
			const substitute: Interceptor = (next) => (r) =>
				next({ ...r, signal: own.signal });
			const call = outcome(
				run({ interceptors: [substitute], send: sendAfter(60_000) }),
			);
			own.abort(new ConnectError("interceptor gave up", Code.Aborted));
			expect(await call).toBe("Aborted: interceptor gave up");
		});
	},
);

/**
 * Runs `body` and tells how many deadline timers (60 s) it armed and how many it left armed. setTimeout and
 * clearTimeout are spied on and call through to the real timers: counting every active timer of the process would
 * also count other tests' timers, which may fire meanwhile.
 */
async function deadlineTimers(
	body: () => Promise<unknown>,
): Promise<{ armed: number; left: number }> {
	const realSet = globalThis.setTimeout;
	const realClear = globalThis.clearTimeout;
	const pending = new Set<unknown>();
	let armed = 0;
	const set = jest.spyOn(globalThis, "setTimeout").mockImplementation(((
		fn: (...args: unknown[]) => void,
		ms?: number,
		...args: unknown[]
	) => {
		const timer = realSet(fn, ms, ...args);
		if (ms === 60_000) {
			armed++;
			pending.add(timer);
		}
		return timer;
	}) as unknown as typeof setTimeout);
	const clear = jest.spyOn(globalThis, "clearTimeout").mockImplementation(((
		timer: Parameters<typeof clearTimeout>[0],
	) => {
		pending.delete(timer);
		realClear(timer);
	}) as typeof clearTimeout);
	try {
		await body();
	} finally {
		set.mockRestore();
		clear.mockRestore();
	}
	return { armed, left: pending.size };
}

describe("runLeanUnaryCall", () => {
	it("rejects, never throws, when an interceptor throws, and clears the deadline", async () => {
		const throwing: Interceptor = () => () => {
			throw new ConnectError("refused", Code.PermissionDenied);
		};
		const [, lean] = runners[0] as [string, Runner];
		const deadlines = await deadlineTimers(async () => {
			let call: Promise<unknown> | undefined;
			expect(() => {
				call = outcome(
					lean({
						interceptors: [throwing],
						timeoutMs: 60_000,
						send: sendAfter(0),
					}),
				);
			}).not.toThrow();
			expect(await call).toBe("PermissionDenied: refused");
		});
		expect(deadlines.left).toBe(0);
	});

	it("clears the deadline when a call ends", async () => {
		const [, lean] = runners[0] as [string, Runner];
		const deadlines = await deadlineTimers(async () => {
			await lean({ interceptors: [], timeoutMs: 60_000, send: sendAfter(0) });
			const failing: Send = () =>
				Promise.reject(new ConnectError("nope", Code.NotFound));
			await outcome(
				lean({ interceptors: [], timeoutMs: 60_000, send: failing }),
			);
		});
		expect(deadlines).toEqual({ armed: 2, left: 0 });
	});
});
