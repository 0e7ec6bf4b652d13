export type { SyncPayload, SyncSource } from "./syncs/sync-source.js";
