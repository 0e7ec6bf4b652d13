/**
 * One RPC service as a connect handler serves it: the descriptor, the implementation, and which of its unary
 * methods answer synchronously. That last part is declared by whoever registers the service, because only a
 * synchronous implementation may take a direct unary path (direct-path/): the direct paths give it no deadline
 * timer and do not await anything it might wait for (FetchAllFlags waits on `ctx.signal` for readiness).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

/** One service and its implementation; build with {@link serviceRoute} to keep the two types tied. */
export interface ServiceRoute {
	readonly service: DescService;
	readonly impl: Partial<ServiceImpl<DescService>>;
	/** Local names of the unary methods whose implementation returns its answer, not a Promise. */
	readonly synchronous: ReadonlySet<string>;
}

export interface ServiceRouteOptions<S extends DescService> {
	/**
	 * Unary methods (local names, e.g. `resolveBoolean`) that return their answer without awaiting anything: the
	 * direct unary paths serve them. Everything else is served by connect. @default none
	 */
	readonly synchronous?: readonly (keyof ServiceImpl<S> & string)[];
}

/**
 * Pairs a service descriptor with its implementation. Throws when a method declared synchronous is not a unary
 * method of the service with an implementation (a programming error, caught at start-up).
 */
export function serviceRoute<S extends DescService>(
	service: S,
	impl: Partial<ServiceImpl<S>>,
	options: ServiceRouteOptions<S> = {},
): ServiceRoute {
	const synchronous = new Set<string>(options.synchronous ?? []);
	for (const name of synchronous) {
		const method = service.methods.find((m) => m.localName === name);
		const fn = (impl as Record<string, unknown>)[name];
		if (method?.methodKind !== "unary" || typeof fn !== "function") {
			throw new Error(
				`serviceRoute(${service.typeName}): "${name}" is declared synchronous but is not an implemented unary method`,
			);
		}
	}
	return {
		service,
		impl: impl as Partial<ServiceImpl<DescService>>,
		synchronous,
	};
}
