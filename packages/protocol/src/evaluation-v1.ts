/**
 * flagd.evaluation.v1: the evaluation API with ResolveAll (used by static-context providers) and EventStream.
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
} from "./gen/flagd/evaluation/v1/evaluation_pb.js";
export {
	AnyFlagSchema,
	EventStreamRequestSchema,
	EventStreamResponseSchema,
	file_flagd_evaluation_v1_evaluation,
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
} from "./gen/flagd/evaluation/v1/evaluation_pb.js";
