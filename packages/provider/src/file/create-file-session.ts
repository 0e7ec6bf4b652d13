import {
	createLocalSession,
	type LocalSessionDependencies,
} from "../in-process/create-local-session.js";
import type { ResolverSession } from "../resolver-session.js";
import { watchFlagFile } from "./watch-flag-file.js";

/** Retry of an unreadable file: quick at first, then at most every second (or the poll interval if shorter). */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1000;

/** The file resolver: flags from `offlineFlagSourcePath`, evaluated locally. */
export function createFileSession(
	deps: LocalSessionDependencies,
): ResolverSession {
	const { config } = deps;
	const filePath = config.offlineFlagSourcePath;
	if (filePath === undefined)
		throw new TypeError('resolver "file" needs "offlineFlagSourcePath"');
	const retryMaxMs = Math.min(MAX_RETRY_MS, config.offlinePollIntervalMs);
	return createLocalSession(
		deps,
		(store) => ({
			openStream: watchFlagFile({
				filePath,
				pollIntervalMs: config.offlinePollIntervalMs,
				store,
				logger: deps.logger,
			}),
			description: `file ${filePath}`,
			close: () => undefined,
		}),
		{
			retryBackoffMs: Math.min(FIRST_RETRY_MS, retryMaxMs),
			retryBackoffMaxMs: retryMaxMs,
			streamDeadlineMs: 0,
		},
	);
}
