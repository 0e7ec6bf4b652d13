/**
 * The resolved config as it may appear in a debug log: source credentials (`authHeader`, custom headers, which
 * often carry tokens) are replaced, so turning on --debug never leaks a secret into log storage.
 */
import type { DaemonConfig } from "../config/daemon-config.js";

const REDACTED = "[redacted]";

export function redactConfig(config: DaemonConfig): Record<string, unknown> {
	return {
		...config,
		sources: config.sources.map((source) => ({
			...source,
			...(source.authHeader === undefined ? {} : { authHeader: REDACTED }),
			...(source.headers === undefined
				? {}
				: {
						headers: Object.fromEntries(
							Object.keys(source.headers).map((name) => [name, REDACTED]),
						),
					}),
		})),
	};
}
