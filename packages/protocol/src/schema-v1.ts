/**
 * schema.v1: the deprecated evaluation API (superseded by flagd.evaluation.v1; Go flagd still serves it).
 * Explicit re-exports of the code protoc-gen-es generates (git-ignored, made by `npm run generate`).
 */

export type {
	AnyFlag,
	EventStreamRequest,
	EventStreamResponse,
	ResolveAllRequest,
	ResolveAllResponse,
	ResolveBooleanRequest,
	ResolveBooleanResponse,
	ResolveFloatRequest,
	ResolveFloatResponse,
	ResolveIntRequest,
	ResolveIntResponse,
	ResolveObjectRequest,
	ResolveObjectResponse,
	ResolveStringRequest,
	ResolveStringResponse,
} from "./gen/schema/v1/schema_pb.js";
export {
	AnyFlagSchema,
	EventStreamRequestSchema,
	EventStreamResponseSchema,
	file_schema_v1_schema,
	ResolveAllRequestSchema,
	ResolveAllResponseSchema,
	ResolveBooleanRequestSchema,
	ResolveBooleanResponseSchema,
	ResolveFloatRequestSchema,
	ResolveFloatResponseSchema,
	ResolveIntRequestSchema,
	ResolveIntResponseSchema,
	ResolveObjectRequestSchema,
	ResolveObjectResponseSchema,
	ResolveStringRequestSchema,
	ResolveStringResponseSchema,
	Service,
} from "./gen/schema/v1/schema_pb.js";
