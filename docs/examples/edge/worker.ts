// A Cloudflare Worker that evaluates flags through flagd on every request: RPC over the Connect protocol on
// fetch, with the provider's cache disabled (a Worker cannot keep the event stream that would invalidate it).
// Configuration comes from the Worker's vars: FLAGD_HOST, FLAGD_PORT, FLAGD_TLS, FLAGD_DEADLINE_MS, ...
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { evaluateFlag, unavailable } from "./evaluate-flag.js";

export interface Env {
	readonly FLAGD_HOST: string;
	readonly FLAGD_PORT: string;
	readonly [name: string]: string | undefined;
}

// One provider per isolate, set up by the first request. A failed start is forgotten so the next request retries.
let ready: Promise<void> | undefined;

function startProvider(env: Env): Promise<void> {
	ready ??= OpenFeature.setProviderAndWait(
		new FlagdProvider({
			env,
			cache: "disabled",
		}),
	).catch((err: unknown) => {
		ready = undefined;
		throw err;
	});
	return ready;
}

// biome-ignore lint/style/noDefaultExport: the Workers runtime calls the module's default export.
export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		try {
			await startProvider(env);
		} catch (err: unknown) {
			return unavailable(err);
		}
		return evaluateFlag(new URL(request.url));
	},
};
