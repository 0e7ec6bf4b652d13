/**
 * @flagd-ts/protocol: the flagd wire contract. Service descriptors of the three APIs under versioned names, plus
 * the wire constants. Message schemas are on the subpaths `@flagd-ts/protocol/evaluation-v1`,
 * `/evaluation-v2`, `/sync-v1` and `/schema-v1`, where their names are the upstream ones.
 */
export { Service as EvaluationServiceV1 } from "./gen/flagd/evaluation/v1/evaluation_pb.js";
export { Service as EvaluationServiceV2 } from "./gen/flagd/evaluation/v2/evaluation_pb.js";
export { FlagSyncService } from "./gen/flagd/sync/v1/sync_pb.js";
/** The deprecated `schema.v1.Service` (superseded by flagd.evaluation.v1). */
export { Service as SchemaServiceV1 } from "./gen/schema/v1/schema_pb.js";
export {
	defineKey,
	mapEntries,
	structEntries,
	structFieldFromBinary,
	structFromJson,
	structToJson,
	structUnknownField,
	valueFromJson,
	valueToJson,
} from "./struct-json.js";
export {
	DEFAULT_PORTS,
	EVALUATION_ERROR_MESSAGES,
	EVENT_STREAM_KEEP_ALIVE_MS,
	EvaluationErrorCode,
	EventType,
	FLAGD_SELECTOR_HEADER,
	FlagChangeType,
	Reason,
} from "./wire-constants.js";
