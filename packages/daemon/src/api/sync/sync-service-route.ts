/**
 * How the sync port registers flagd.sync.v1: GetMetadata answers at once, so it is declared synchronous and the
 * direct unary path serves it; FetchAllFlags waits for readiness and SyncFlags streams, so connect serves those.
 */
import type { FlagSyncService } from "@flagd-ts/protocol";
import type { ServiceRouteOptions } from "../../transport/connect-handler.js";

/** The third argument of `serviceRoute(FlagSyncService, createSyncService(…), …)`. */
export const SYNC_SERVICE_ROUTE: ServiceRouteOptions<typeof FlagSyncService> = {
	synchronous: ["getMetadata"],
};
