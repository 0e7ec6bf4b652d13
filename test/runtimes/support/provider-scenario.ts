/**
 * Runs inside Deno, Bun (or any runtime with fetch) against the daemon the test started: every flag type over
 * rpc, a CACHED second answer, a flag change seen by rpc (EventStream) and in-process (SyncFlags), the in-process
 * resolver's targeting, and an unreachable daemon. It imports `@flagd-ts/provider` by name, so the runtime's
 * export condition picks the build. Prints one JSON object per line; prints `{"step":"change-flags"}` and waits
 * for the test to rewrite the flag file. Argument: JSON `{ evaluationPort, syncPort, deadPort }`.
 */
import { FlagdProvider } from "@flagd-ts/provider";
import {
	type Client,
	type EventDetails,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/server-sdk";

interface ScenarioArgs {
	readonly evaluationPort: number;
	readonly syncPort: number;
	readonly deadPort: number;
}

const runtime = globalThis as {
	Deno?: { args: string[] };
	process?: { argv: string[] };
};
const argv = runtime.Deno?.args ?? runtime.process?.argv.slice(2) ?? [];
const args = JSON.parse(argv[0] ?? "{}") as ScenarioArgs;
const HOST = "127.0.0.1";
const CHANGE_TIMEOUT_MS = 20_000;
/** Logs nothing: the test reads stdout as JSON lines. */
const quiet = {
	error: () => undefined,
	warn: () => undefined,
	info: () => undefined,
	debug: () => undefined,
};

function emit(record: object): void {
	console.log(JSON.stringify(record));
}

async function details(client: Client) {
	return [
		await client.getBooleanDetails("bool-flag", false),
		await client.getStringDetails("string-flag", "default"),
		await client.getNumberDetails("int-flag", 0),
		await client.getNumberDetails("float-flag", 0),
		await client.getObjectDetails("object-flag", {}),
	].map(({ flagKey, value, reason, variant, errorCode }) => ({
		flagKey,
		value,
		reason,
		variant,
		errorCode,
	}));
}

/** Resolves with the keys of the first CONFIGURATION_CHANGED naming `flagKey`. */
function changeOf(client: Client, flagKey: string): Promise<readonly string[]> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`no change event for ${flagKey}`)),
			CHANGE_TIMEOUT_MS,
		);
		const handler = (event?: EventDetails) => {
			const keys = (event as { flagsChanged?: readonly string[] } | undefined)
				?.flagsChanged;
			if (keys === undefined || !keys.includes(flagKey)) return;
			clearTimeout(timer);
			client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
			resolve(keys);
		};
		client.addHandler(ProviderEvents.ConfigurationChanged, handler);
	});
}

async function main(): Promise<void> {
	// rpc: Connect over fetch, evaluation port; the environment is read only where the runtime allows it.
	await OpenFeature.setProviderAndWait(
		"rpc",
		new FlagdProvider({
			host: HOST,
			port: args.evaluationPort,
			deadlineMs: 5_000,
			logger: quiet,
		}),
	);
	const rpc = OpenFeature.getClient("rpc");
	emit({ check: "types", results: await details(rpc) });
	const again = await rpc.getBooleanDetails("bool-flag", false);
	emit({ check: "cached", reason: again.reason, value: again.value });

	// in-process: flagd.sync.v1 SyncFlags over Connect/fetch, local evaluation.
	await OpenFeature.setProviderAndWait(
		"in-process",
		new FlagdProvider({
			host: HOST,
			port: args.syncPort,
			resolver: "in-process",
			deadlineMs: 5_000,
			logger: quiet,
		}),
	);
	const local = OpenFeature.getClient("in-process");
	const internal = await local.getStringDetails("targeted-flag", "none", {
		targetingKey: "u1",
		email: "ada@example.com",
	});
	const external = await local.getStringDetails("targeted-flag", "none", {
		targetingKey: "u2",
		email: "bob@elsewhere.org",
	});
	emit({
		check: "in-process",
		results: [
			...(await details(local)),
			...[internal, external].map(({ value, reason, variant }) => ({
				flagKey: "targeted-flag",
				value,
				reason,
				variant,
			})),
		],
	});

	// A change of the flag file reaches both: rpc through the EventStream, in-process through SyncFlags.
	const rpcChange = changeOf(rpc, "string-flag");
	const localChange = changeOf(local, "string-flag");
	emit({ step: "change-flags" });
	const [rpcKeys, localKeys] = await Promise.all([rpcChange, localChange]);
	const rpcAfter = await rpc.getStringDetails("string-flag", "default");
	const localAfter = await local.getStringDetails("string-flag", "default");
	emit({
		check: "change",
		rpc: { keys: rpcKeys, value: rpcAfter.value, reason: rpcAfter.reason },
		inProcess: {
			keys: localKeys,
			value: localAfter.value,
			reason: localAfter.reason,
		},
	});

	// Nothing listens on deadPort: initialization fails within deadlineMs with a clear error.
	const started = Date.now();
	let failure: unknown;
	try {
		await OpenFeature.setProviderAndWait(
			"dead",
			new FlagdProvider({
				host: HOST,
				port: args.deadPort,
				deadlineMs: 1_000,
				logger: quiet,
			}),
		);
	} catch (error: unknown) {
		failure = error;
	}
	const deadAnswer = await OpenFeature.getClient("dead").getBooleanDetails(
		"bool-flag",
		false,
	);
	emit({
		check: "unreachable",
		elapsedMs: Date.now() - started,
		failed: failure !== undefined,
		message: failure instanceof Error ? failure.message : String(failure),
		answer: { value: deadAnswer.value, errorCode: deadAnswer.errorCode },
	});

	await OpenFeature.close();
	emit({ check: "closed" });
}

main().catch((error: unknown) => {
	emit({
		check: "failed",
		message: error instanceof Error ? error.message : String(error),
	});
	throw error;
});
