/**
 * A cap on the long-lived server streams a service holds open at once (EventStream, SyncFlags): each costs memory
 * for as long as its client keeps it, so without a cap a client could open them until the daemon runs out. A stream
 * over the cap is refused at once with RESOURCE_EXHAUSTED, naming the option that raises it.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";

export interface StreamLimiterOptions {
	/** Streams allowed open at once (at least 1). */
	readonly max: number;
	/** What is limited, for the refusal message (`event streams`). */
	readonly what: string;
	/** The option that raises the cap, for the refusal message (`--max-event-streams`). */
	readonly option: string;
}

/** Counts open streams against one cap; share one instance between the services it covers. */
export class StreamLimiter {
	readonly #options: StreamLimiterOptions;
	#open = 0;

	constructor(options: StreamLimiterOptions) {
		this.#options = options;
	}

	/** Streams currently open. */
	get open(): number {
		return this.#open;
	}

	/** Takes a slot, or throws RESOURCE_EXHAUSTED when all are taken. Pair with {@link release}. */
	acquire(): void {
		const { max, what, option } = this.#options;
		if (this.#open >= max) {
			throw new ConnectError(
				`too many open ${what}: the limit is ${max} (${option})`,
				Code.ResourceExhausted,
			);
		}
		this.#open++;
	}

	release(): void {
		this.#open--;
	}
}

type ServerStreamImpl = (req: unknown, ctx: unknown) => AsyncIterable<unknown>;

/** The implementation with every server-streaming method counted against `limiter`. */
export function limitServerStreams<S extends DescService>(
	service: S,
	impl: Partial<ServiceImpl<S>>,
	limiter: StreamLimiter,
): Partial<ServiceImpl<S>> {
	const limited: Record<string, unknown> = { ...impl };
	for (const method of service.methods) {
		if (method.methodKind !== "server_streaming") continue;
		const fn = impl[method.localName as keyof typeof impl] as
			| ServerStreamImpl
			| undefined;
		if (typeof fn !== "function") continue;
		limited[method.localName] = async function* (req: unknown, ctx: unknown) {
			limiter.acquire();
			try {
				yield* fn.call(impl, req, ctx);
			} finally {
				limiter.release();
			}
		};
	}
	return limited as Partial<ServiceImpl<S>>;
}
