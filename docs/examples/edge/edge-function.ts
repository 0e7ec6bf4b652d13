// A Vercel Edge Function (Next.js: a route handler with `export const runtime = "edge"`) that evaluates flags
// through flagd: RPC over the Connect protocol on fetch. The provider lives as long as the isolate; its event
// stream keeps the cache of STATIC results fresh. Configuration comes from FLAGD_* environment variables.
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { evaluateFlag, unavailable } from "./evaluate-flag.js";

export const config = { runtime: "edge" };

let ready: Promise<void> | undefined;

function startProvider(): Promise<void> {
	const env = process.env;
	ready ??= OpenFeature.setProviderAndWait(
		new FlagdProvider({
			env,
		}),
	).catch((err: unknown) => {
		ready = undefined;
		throw err;
	});
	return ready;
}

// biome-ignore lint/style/noDefaultExport: Vercel calls the module's default export.
export default async function handler(request: Request): Promise<Response> {
	try {
		await startProvider();
	} catch (err: unknown) {
		return unavailable(err);
	}
	return evaluateFlag(new URL(request.url));
}
