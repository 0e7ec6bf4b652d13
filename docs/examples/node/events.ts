// A long-running service: logs the provider's events, shows what evaluations return in each state, and closes the
// provider on Ctrl+C (SIGINT) or SIGTERM so the process exits.
// Run from the repository root, with a daemon on FLAGD_HOST:FLAGD_PORT: node --import tsx docs/examples/node/events.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";

const client = OpenFeature.getClient();

async function show(when: string): Promise<void> {
	// STATIC: cached by the provider.
	const items = await client.getNumberDetails("max-items", 5);
	// Targeted: never cached, always asks the daemon.
	const banner = await client.getBooleanDetails("show-welcome-banner", false, {
		email: "me@example.com",
	});
	console.log(
		`  ${when}: max-items = ${items.value} (${items.reason}), show-welcome-banner = ${banner.value} (${banner.errorCode ?? banner.reason})`,
	);
}

client.addHandler(ProviderEvents.Ready, () => console.log("READY"));
client.addHandler(ProviderEvents.Stale, () => {
	console.log("STALE");
	void show("while stale");
});
client.addHandler(ProviderEvents.Error, () => console.log("ERROR"));
client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
	// After a reconnect there is no list: anything may have changed while the stream was down.
	console.log(
		`CONFIGURATION_CHANGED ${details?.flagsChanged?.join(", ") ?? "(no list)"}`,
	);
	void show("after the change");
});

await OpenFeature.setProviderAndWait(
	new FlagdProvider({
		// Reconnect delays start at 0.5 s and double up to 5 s (with jitter); ERROR after 10 s without a connection.
		retryBackoffMs: 500,
		retryBackoffMaxMs: 5000,
		retryGracePeriod: 10,
	}),
);
await show("first");
await show("second");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		void OpenFeature.close().then(() => console.log("closed"));
	});
}
