// A Cloudflare Worker whose flagd provider lives in a Durable Object. The object outlives single requests, so
// the provider keeps its event stream open: STATIC results are cached and dropped on every change event, and
// `FLAGD_RESOLVER=in-process` (with FLAGD_PORT set to the daemon's sync port) evaluates locally from the sync
// stream. The Worker forwards each request to the one object named "flags".
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { evaluateFlag, unavailable } from "./evaluate-flag.js";

/** The parts of the Durable Object binding used here (`DurableObjectNamespace` in @cloudflare/workers-types). */
export interface FlagsNamespace {
	idFromName(name: string): unknown;
	get(id: unknown): { fetch(request: Request): Promise<Response> };
}

export interface Env {
	readonly FLAGS: FlagsNamespace;
	readonly FLAGD_HOST: string;
	readonly FLAGD_PORT: string;
	readonly [name: string]: unknown;
}

export class FlagsObject {
	readonly #env: Env;
	#ready: Promise<void> | undefined;

	constructor(_state: unknown, env: Env) {
		this.#env = env;
	}

	async fetch(request: Request): Promise<Response> {
		try {
			await this.#start();
		} catch (err: unknown) {
			return unavailable(err);
		}
		return evaluateFlag(new URL(request.url));
	}

	#start(): Promise<void> {
		const vars = Object.fromEntries(
			Object.entries(this.#env).filter(
				(entry): entry is [string, string] => typeof entry[1] === "string",
			),
		);
		this.#ready ??= OpenFeature.setProviderAndWait(
			new FlagdProvider({
				env: vars,
			}),
		).catch((err: unknown) => {
			this.#ready = undefined;
			throw err;
		});
		return this.#ready;
	}
}

// biome-ignore lint/style/noDefaultExport: the Workers runtime calls the module's default export.
export default {
	fetch(request: Request, env: Env): Promise<Response> {
		return env.FLAGS.get(env.FLAGS.idFromName("flags")).fetch(request);
	},
};
