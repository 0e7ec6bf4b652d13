/**
 * The configuration of a daemon a test starts in its own process: every port picked free by the OS, so suites never
 * collide, and every listener on loopback only (tests talk to 127.0.0.1 alone). The tests add their sources and
 * whatever else they exercise.
 */
import type { DaemonConfig } from "../../packages/daemon/src/config/daemon-config.js";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";

/** defaultDaemonConfig() on free 127.0.0.1 ports, then `overrides` (a fixed port among them if a test needs one). */
export function loopbackDaemonConfig(
	overrides: Partial<DaemonConfig> = {},
): DaemonConfig {
	return defaultDaemonConfig({
		port: 0,
		managementPort: 0,
		syncPort: 0,
		ofrepPort: 0,
		bindAddress: "127.0.0.1",
		...overrides,
	});
}
