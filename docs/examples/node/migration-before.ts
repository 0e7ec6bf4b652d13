// Before the migration: @openfeature/flagd-provider in RPC mode.
// Host and port come from FLAGD_HOST / FLAGD_PORT (default localhost:8013).
import { FlagdProvider } from "@openfeature/flagd-provider";
import { OpenFeature } from "@openfeature/server-sdk";

await OpenFeature.setProviderAndWait(
	new FlagdProvider({ cache: "lru", maxCacheSize: 500 }),
);
const client = OpenFeature.getClient();
const context = { targetingKey: "user-42", email: "me@example.com" };

console.log(
	await client.getBooleanValue("show-welcome-banner", false, context),
);
console.log(await client.getStringValue("header-color", "#555555", context));
console.log(await client.getNumberValue("max-items", 5, context));
const missing = await client.getBooleanDetails("no-such-flag", false, context);
console.log(missing.value, missing.errorCode);

await OpenFeature.close();
