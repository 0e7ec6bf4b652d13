/**
 * flagd.sync.v1: the FlagSyncService that in-process providers and daemons sync flag definitions from.
 * Explicit re-exports of the code protoc-gen-es generates (git-ignored, made by `npm run generate`).
 */

export type {
	FetchAllFlagsRequest,
	FetchAllFlagsResponse,
	GetMetadataRequest,
	GetMetadataResponse,
	SyncFlagsRequest,
	SyncFlagsResponse,
} from "./gen/flagd/sync/v1/sync_pb.js";
export {
	FetchAllFlagsRequestSchema,
	FetchAllFlagsResponseSchema,
	FlagSyncService,
	file_flagd_sync_v1_sync,
	GetMetadataRequestSchema,
	GetMetadataResponseSchema,
	SyncFlagsRequestSchema,
	SyncFlagsResponseSchema,
} from "./gen/flagd/sync/v1/sync_pb.js";
