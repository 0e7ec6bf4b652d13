/**
 * The standard gRPC health check (`grpc.health.v1.Health/Check`) on the management port, as flagd serves it for
 * HTTP/2 gRPC requests (Kubernetes gRPC probes). health.proto is described at run time (a generated file would
 * have to break buf lint's "Service" suffix rule) and served by connect, gRPC only.
 */
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import {
	create,
	createFileRegistry,
	type DescService,
} from "@bufbuild/protobuf";
import {
	FieldDescriptorProto_Label,
	FieldDescriptorProto_Type,
	FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "../../logging/logger.js";
import {
	createConnectHandler,
	serviceRoute,
} from "../../transport/connect-handler.js";
import type { RequestHandler } from "../../transport/http-listener.js";

const CHECK_PATH = "/grpc.health.v1.Health/Check";
const WATCH_PATH = "/grpc.health.v1.Health/Watch";
const SERVING = 1;
const NOT_SERVING = 2;
/** Requests are a service name; anything larger is not a health check. */
const MAX_REQUEST_BYTES = 4_096;

const healthFile = create(FileDescriptorProtoSchema, {
	name: "grpc/health/v1/health.proto",
	package: "grpc.health.v1",
	syntax: "proto3",
	messageType: [
		{
			name: "HealthCheckRequest",
			field: [
				{
					name: "service",
					number: 1,
					type: FieldDescriptorProto_Type.STRING,
					label: FieldDescriptorProto_Label.OPTIONAL,
					jsonName: "service",
				},
			],
		},
		{
			name: "HealthCheckResponse",
			field: [
				{
					name: "status",
					number: 1,
					type: FieldDescriptorProto_Type.ENUM,
					typeName: ".grpc.health.v1.HealthCheckResponse.ServingStatus",
					label: FieldDescriptorProto_Label.OPTIONAL,
					jsonName: "status",
				},
			],
			enumType: [
				{
					name: "ServingStatus",
					value: [
						{ name: "UNKNOWN", number: 0 },
						{ name: "SERVING", number: 1 },
						{ name: "NOT_SERVING", number: 2 },
						{ name: "SERVICE_UNKNOWN", number: 3 },
					],
				},
			],
		},
	],
	service: [
		{
			name: "Health",
			method: [
				{
					name: "Check",
					inputType: ".grpc.health.v1.HealthCheckRequest",
					outputType: ".grpc.health.v1.HealthCheckResponse",
				},
				{
					name: "Watch",
					inputType: ".grpc.health.v1.HealthCheckRequest",
					outputType: ".grpc.health.v1.HealthCheckResponse",
					serverStreaming: true,
				},
			],
		},
	],
});

/** `grpc.health.v1.Health`. */
export const HealthService: DescService = (() => {
	const service = createFileRegistry(healthFile, () => undefined).getService(
		"grpc.health.v1.Health",
	);
	if (service === undefined) throw new Error("grpc.health.v1.Health missing");
	return service;
})();

/** True when the request is a gRPC health call this module answers. */
export function isGrpcHealthRequest(
	req: IncomingMessage | Http2ServerRequest,
): boolean {
	const path = req.url ?? "";
	return (
		req.httpVersionMajor === 2 &&
		(req.headers["content-type"] ?? "").startsWith("application/grpc") &&
		(path === CHECK_PATH || path === WATCH_PATH)
	);
}

export interface GrpcHealthOptions {
	readonly isReady: () => boolean;
	readonly services: ReadonlySet<string>;
	/** Failed response writes other than to a closed client. */
	readonly logger: Logger;
}

/**
 * A handler for the health calls: the overall service `""` and the daemon's own services report SERVING once the
 * daemon is ready (NOT_SERVING before); other names are NOT_FOUND; Watch has no implementation, so connect answers
 * it UNIMPLEMENTED, as flagd does. A request that is not valid protobuf is INVALID_ARGUMENT (connect-handler).
 */
export function createGrpcHealthHandler(
	options: GrpcHealthOptions,
): RequestHandler {
	const impl = {
		check(request: { service?: string }) {
			const service = request.service ?? "";
			if (service !== "" && !options.services.has(service)) {
				throw new ConnectError("unknown service", Code.NotFound);
			}
			return { status: options.isReady() ? SERVING : NOT_SERVING };
		},
	} as unknown as Partial<ServiceImpl<DescService>>;
	return createConnectHandler({
		services: [serviceRoute(HealthService, impl)],
		logger: options.logger,
		directUnaryPaths: false,
		connect: false,
		grpcWeb: false,
		grpc: true,
		readMaxBytes: MAX_REQUEST_BYTES,
	});
}
