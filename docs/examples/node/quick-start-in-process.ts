// Quick start, in-process: the provider receives the whole flag set from the daemon's sync port (8015) and
// evaluates every flag locally. With FLAGD_OFFLINE_FLAG_SOURCE_PATH set, it reads that file instead (no daemon).
// Run from the repository root: node --import tsx docs/examples/node/quick-start-in-process.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";

await OpenFeature.setProviderAndWait(
	new FlagdProvider({ resolver: "in-process" }),
);
const client = OpenFeature.getClient();

const banner = await client.getBooleanDetails("show-welcome-banner", false, {
	email: "me@example.com",
});
console.log(
	`show-welcome-banner = ${banner.value} (variant ${banner.variant}, reason ${banner.reason})`,
);
const color = await client.getStringValue("header-color", "#555555", {
	targetingKey: "user-42",
});
console.log(`header-color for user-42 = ${color}`);

// Evaluated locally every time: STATIC, no cache and no network hop involved.
for (let i = 0; i < 2; i++) {
	const maxItems = await client.getNumberDetails("max-items", 5);
	console.log(`max-items = ${maxItems.value} (reason ${maxItems.reason})`);
}

// Closes the sync stream (or the file watcher), so the process exits.
await OpenFeature.close();
