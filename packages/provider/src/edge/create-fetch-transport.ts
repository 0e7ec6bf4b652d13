import { createConnectTransport } from "@connectrpc/connect-web";
import { resolveFlagdTarget } from "../flagd-target.js";
import type { FlagdTransport } from "../flagd-transport.js";
import type { FlagdProviderConfig } from "../provider-options.js";
import { tlsMismatchInterceptor } from "../tls-mismatch-interceptor.js";
import { traceContextInterceptor } from "../trace-context-interceptor.js";
import { abortableFetch } from "./abortable-fetch.js";

/**
 * The Connect protocol over the runtime's `fetch` (connect-web's transport: no `node:` modules, no code
 * generation), binary format, for the daemon's evaluation port (rpc) or sync port (in-process). Connections
 * belong to `fetch`: there is nothing to reset or close here; open streams end through their abort signals.
 * `fetchImpl` replaces the global `fetch` (for example a Cloudflare service binding's bound `fetch`); either is
 * wrapped by abortableFetch so an aborted stream ends at once.
 */
export function createFetchTransport(
	config: FlagdProviderConfig,
	fetchImpl?: typeof globalThis.fetch,
): FlagdTransport {
	const target = resolveFlagdTarget(config);
	if (target.kind === "unix") {
		// finishConfig refuses socketPath and unix: targets first; this guards direct callers.
		throw new TypeError(
			"flagd provider: unix sockets are not available through fetch",
		);
	}
	const baseUrl = `${config.tls ? "https" : "http"}://${target.authority}`;
	const hint = tlsMismatchInterceptor(config.tls);
	const transport = createConnectTransport({
		baseUrl,
		useBinaryFormat: true,
		interceptors: config.tracePropagation
			? [hint, traceContextInterceptor]
			: [hint],
		// Looked up per call, not captured: a test or an app may replace globalThis.fetch later. connect-web asks
		// fetch for `redirect: "error"`, which workerd refuses when it builds the Request ("Invalid redirect value"),
		// failing every call; "manual" leaves a redirect as a 3xx answer, which Connect reports as an error.
		fetch: abortableFetch((input, init) =>
			(fetchImpl ?? globalThis.fetch)(input, { ...init, redirect: "manual" }),
		),
	});
	return {
		transport,
		description: `${baseUrl} (fetch)`,
		binaryFormat: true,
		resetConnections: () => undefined,
		close: () => undefined,
	};
}
