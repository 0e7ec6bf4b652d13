/**
 * Everything one conformance test file runs against: the launchpad (our daemon, fixed ports), the `forbidden`
 * listener (Envoy 9212 stand-in), the targetUri router (Envoy 9211 stand-in) and a port nothing listens on (the
 * `unavailable` provider). Created in beforeAll, disposed in afterAll; every server and socket is closed.
 */
import { type ForbiddenProxy, startForbiddenProxy } from "./forbidden-proxy.js";
import { pickFreePorts } from "./free-ports.js";
import { Launchpad } from "./launchpad.js";
import {
	startTargetUriRouter,
	type TargetUriRouter,
} from "./target-uri-router.js";

/**
 * Which daemon API the evaluation steps go through: `provider` is @flagd-ts/provider over RPC, `in-process` and
 * `file` are its in-process (sync stream) and file resolvers.
 */
export type ConformanceBackend =
	| "provider"
	| "in-process"
	| "file"
	| "ofrep"
	| "evaluation-v1";

/** See the file comment. */
export interface ConformanceEnvironment {
	readonly backend: ConformanceBackend;
	readonly launchpad: Launchpad;
	readonly forbidden: ForbiddenProxy;
	readonly router: TargetUriRouter;
	/** A port that was free when picked and that nothing in this run listens on. */
	readonly unavailablePort: number;
	dispose(): Promise<void>;
}

/** Creates the environment; on a partial failure, whatever was started is closed before rethrowing. */
export async function createConformanceEnvironment(
	backend: ConformanceBackend,
): Promise<ConformanceEnvironment> {
	const launchpad = await Launchpad.create();
	let forbidden: ForbiddenProxy | undefined;
	try {
		forbidden = await startForbiddenProxy();
		const router = await startTargetUriRouter({
			evaluation: { host: "127.0.0.1", port: launchpad.ports.evaluation },
			sync: { host: "127.0.0.1", port: launchpad.ports.sync },
		});
		const [unavailablePort] = await pickFreePorts(1);
		if (unavailablePort === undefined)
			throw new Error("no free port for the unavailable provider");
		const forbiddenProxy = forbidden;
		return {
			backend,
			launchpad,
			forbidden: forbiddenProxy,
			router,
			unavailablePort,
			async dispose() {
				await Promise.all([
					launchpad.dispose(),
					forbiddenProxy.close(),
					router.close(),
				]);
			},
		};
	} catch (error: unknown) {
		await Promise.all([launchpad.dispose(), forbidden?.close()]);
		throw error;
	}
}
