/**
 * The resolved config as it may appear in a debug log: source credentials (`authHeader`, custom headers, which
 * often carry tokens, and userinfo or query values in the URI) are replaced, so turning on --debug never leaks a secret into log storage.
 */
import type { DaemonConfig } from "../config/daemon-config.js";
import { redactUri } from "../logging/redact-uri.js";

const REDACTED = "[redacted]";

export function redactConfig(config: DaemonConfig): Record<string, unknown> {
	return {
		...config,
		sources: config.sources.map((source) => ({
			...source,
			uri: redactUri(source.uri),
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
