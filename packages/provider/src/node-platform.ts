import { createFlagdTransport } from "./create-transport.js";
import { createFileSession } from "./file/create-file-session.js";
import type { ProviderPlatform } from "./provider-platform.js";

/** Node: gRPC or Connect over connect-node, TLS files, unix sockets, and the file resolver. */
export const NODE_PLATFORM: ProviderPlatform = {
	readEnvironment: () => (typeof process === "undefined" ? {} : process.env),
	finishConfig: (config) => config,
	createTransport: createFlagdTransport,
	createFileSession,
};
