import { FLAGD_PROVIDER_OPTION_SPECS } from "./option-table.js";
import type {
	FlagdProviderOptions,
	FlagdResolverType,
} from "./provider-options.js";

/** Options every resolver uses (or that are not about a resolver at all). */
const ANY = ["resolver", "resolverType", "logger", "env", "deadlineMs"];
/** Options of a connection to a daemon (rpc and in-process). */
const CONNECTION = [
	"host",
	"port",
	"tls",
	"socketPath",
	"certPath",
	"targetUri",
	"defaultAuthority",
	"keepAliveTime",
	"connectTransport",
	"tracePropagation",
	"streamDeadlineMs",
	"retryBackoffMs",
	"retryBackoffMaxMs",
	"retryGracePeriod",
	"fatalStatusCodes",
	"selector",
	"providerId",
];

/** The options each resolver reads; anything else given to it is refused (explicit) or warned about (env). */
const USED_BY: Readonly<Record<FlagdResolverType, ReadonlySet<string>>> = {
	rpc: new Set([
		...ANY,
		...CONNECTION,
		"cache",
		"maxCacheSize",
		"apiVersion",
		// flagd's sync service (in-process) speaks gRPC only, so the protocol choice is RPC's alone.
		"transport",
		"httpVersion",
	]),
	"in-process": new Set([
		...ANY,
		...CONNECTION,
		"contextEnricher",
		"evaluatorMode",
	]),
	file: new Set([
		...ANY,
		"offlineFlagSourcePath",
		"offlinePollIntervalMs",
		"evaluatorMode",
		"retryGracePeriod",
	]),
};

const KNOWN: ReadonlySet<string> = new Set(
	Object.values(USED_BY).flatMap((names) => [...names]),
);

function usersOf(name: string): string {
	const users = (Object.keys(USED_BY) as FlagdResolverType[]).filter((r) =>
		USED_BY[r].has(name),
	);
	return users.length === 0 ? "no resolver" : users.join(", ");
}

/**
 * Refuses options the chosen resolver cannot use, so none is ignored silently: an explicit option throws a
 * `TypeError` naming it and the resolvers that use it; a `FLAGD_*` variable of another resolver (environments are
 * often shared between services) yields a warning naming it. `offlineFlagSourcePath` with resolver `in-process`
 * has already selected `file`.
 */
export function checkResolverOptions(
	resolver: FlagdResolverType,
	options: FlagdProviderOptions,
	env: Readonly<Record<string, string | undefined>>,
): string[] {
	const used = USED_BY[resolver];
	for (const [name, value] of Object.entries(options)) {
		if (value === undefined || used.has(name) || !KNOWN.has(name)) continue;
		// Local resolvers have no cache, so "disabled" describes them (flagd's testbed passes it to every mode).
		if (name === "cache" && String(value).toLowerCase() === "disabled")
			continue;
		throw new TypeError(
			`flagd provider option "${name}" is not used by the ${resolver} resolver (used by: ${usersOf(name)}); remove it or change "resolver"`,
		);
	}
	const warnings: string[] = [];
	const variables = FLAGD_PROVIDER_OPTION_SPECS.filter(
		(spec) => spec.env !== undefined && !used.has(spec.name),
	).map((spec) => [spec.env as string, spec.name] as const);
	if (resolver !== "in-process") variables.push(["FLAGD_SYNC_PORT", "port"]);
	for (const [variable, name] of variables) {
		if (env[variable] === undefined) continue;
		if (variable === "FLAGD_SYNC_PORT" && resolver === "rpc") {
			warnings.push(
				"FLAGD_SYNC_PORT is read by the in-process resolver only; the rpc resolver uses FLAGD_PORT",
			);
			continue;
		}
		warnings.push(
			`${variable} is not used by the ${resolver} resolver (option "${name}" is used by: ${usersOf(name)}); ignored`,
		);
	}
	return warnings;
}
