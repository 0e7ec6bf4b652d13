// A service that starts before its daemon: initialization fails after deadlineMs, the provider keeps trying in
// the background, and READY arrives once the daemon answers.
// Run from the repository root: node --import tsx docs/examples/node/late-daemon.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";

const client = OpenFeature.getClient();
const ready = new Promise<void>((resolve) => {
	client.addHandler(ProviderEvents.Ready, () => resolve());
});

try {
	await OpenFeature.setProviderAndWait(
		new FlagdProvider({ retryBackoffMs: 200, retryBackoffMaxMs: 1000 }),
	);
} catch (e: unknown) {
	console.log(`initialize failed: ${e instanceof Error ? e.message : e}`);
}
const before = await client.getNumberDetails("max-items", 5);
console.log(`before: max-items = ${before.value} (${before.errorCode})`);

await ready;
const after = await client.getNumberDetails("max-items", 5);
console.log(`after READY: max-items = ${after.value} (${after.reason})`);

await OpenFeature.close();
