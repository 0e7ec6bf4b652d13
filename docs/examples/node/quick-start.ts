// Quick start: evaluate four flags of docs/examples/flags.json through the daemon that `npm start` runs.
// Run from the repository root: node --import tsx docs/examples/node/quick-start.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";

// No options: the provider reads FLAGD_HOST and FLAGD_PORT, and defaults to localhost:8013.
await OpenFeature.setProviderAndWait(new FlagdProvider());
const client = OpenFeature.getClient();

// Targeted: on for e-mail addresses ending in @example.com.
const banner = await client.getBooleanDetails("show-welcome-banner", false, {
	email: "me@example.com",
});
console.log(
	`show-welcome-banner = ${banner.value} (variant ${banner.variant}, reason ${banner.reason})`,
);

// Fractional rollout: the same targetingKey always gets the same colour.
const color = await client.getStringValue("header-color", "#555555", {
	targetingKey: "user-42",
});
console.log(`header-color for user-42 = ${color}`);

// No targeting: STATIC, so the second evaluation is answered from the provider's cache.
for (let i = 0; i < 2; i++) {
	const maxItems = await client.getNumberDetails("max-items", 5);
	console.log(`max-items = ${maxItems.value} (reason ${maxItems.reason})`);
}

// A disabled flag: the code default, with reason DISABLED.
const checkout = await client.getBooleanDetails("new-checkout", false);
console.log(`new-checkout = ${checkout.value} (reason ${checkout.reason})`);

// Closes the connection, so the process exits.
await OpenFeature.close();
