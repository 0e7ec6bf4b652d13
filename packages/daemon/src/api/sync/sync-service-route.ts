/**
 * How the sync port registers flagd.sync.v1: GetMetadata answers at once, so it is declared synchronous and the
 * direct unary path serves it; plain SyncFlags calls take the direct streaming path (sync-stream-hub.ts: one
 * encoding per snapshot for every stream of a selector); FetchAllFlags waits for readiness, so connect serves it,
 * as it serves every call the direct paths do not take.
 */
import { FlagSyncService } from "@flagd-ts/protocol";
import {
	type ServiceRoute,
	type ServiceRouteOptions,
	serviceRoute,
} from "../../transport/connect-handler.js";
import { toConnectError } from "../connect-errors.js";
import { createSyncService, type SyncServiceOptions } from "./sync-service.js";
import { SyncStreamHub } from "./sync-stream-hub.js";

/** The third argument of `serviceRoute(FlagSyncService, createSyncService(…), …)` without the direct stream. */
export const SYNC_SERVICE_ROUTE: ServiceRouteOptions<typeof FlagSyncService> = {
	synchronous: ["getMetadata"],
};

/** flagd.sync.v1 as the sync port registers it: connect's implementation plus the direct SyncFlags stream. */
export function syncServiceRoute(
	options: SyncServiceOptions,
	hub: SyncStreamHub = new SyncStreamHub(options),
): ServiceRoute {
	return serviceRoute(FlagSyncService, createSyncService(options), {
		...SYNC_SERVICE_ROUTE,
		directStreams: {
			syncFlags: (
				request: { providerId: string; selector: string },
				context,
				stream,
			) => {
				const header = context.requestHeader.get("flagd-selector");
				let selector: ReturnType<SyncServiceOptions["selectors"]["get"]>;
				try {
					selector = options.selectors.get(
						header !== null && header !== "" ? header : request.selector,
					);
				} catch (e: unknown) {
					throw toConnectError(e);
				}
				hub.open(selector, request.providerId, stream);
			},
		},
	});
}
