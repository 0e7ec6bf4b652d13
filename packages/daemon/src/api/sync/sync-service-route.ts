/**
 * flagd.sync.v1 as the sync port registers it. GetMetadata answers at once, so it is declared synchronous and the
 * direct unary path serves it; FetchAllFlags waits for readiness and SyncFlags streams, so connect serves those.
 */
import { FlagSyncService } from "@flagd-ts/protocol";
import {
	type ServiceRoute,
	serviceRoute,
} from "../../transport/service-route.js";
import { createSyncService, type SyncServiceOptions } from "./sync-service.js";

/** See the file comment. */
export function syncServiceRoute(options: SyncServiceOptions): ServiceRoute {
	return serviceRoute(FlagSyncService, createSyncService(options), {
		synchronous: ["getMetadata"],
	});
}
