/**
 * flagd.evaluation.v2: single-flag evaluation with explicit presence for value and variant, and EventStream.
 * Explicit re-exports of the code protoc-gen-es generates (git-ignored, made by `npm run generate`).
 */

export type {
	AnyFlag,
	EventStreamRequest,
	EventStreamResponse,
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
} from "./gen/flagd/evaluation/v2/evaluation_pb.js";
export {
	AnyFlagSchema,
	EventStreamRequestSchema,
	EventStreamResponseSchema,
	file_flagd_evaluation_v2_evaluation,
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
} from "./gen/flagd/evaluation/v2/evaluation_pb.js";
