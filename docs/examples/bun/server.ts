// A Bun HTTP server that evaluates a flag per request with @flagd-ts/provider (the `bun` export condition picks
// the fetch-based build). Run with: FLAGD_HOST=127.0.0.1 FLAGD_PORT=8013 bun run server.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";

// FLAGD_HOST / FLAGD_PORT (and the other FLAGD_* variables) configure the provider.
await OpenFeature.setProviderAndWait(new FlagdProvider());
const flags = OpenFeature.getClient();

const server = Bun.serve({
	hostname: "127.0.0.1",
	port: Number(process.env.PORT ?? "3000"),
	async fetch() {
		const greeting = await flags.getStringDetails("greeting", "hello");
		return Response.json({
			greeting: greeting.value,
			reason: greeting.reason,
		});
	},
});
console.log(`listening on http://${server.hostname}:${server.port}/`);

// Close the provider's stream and the server, then exit.
process.on("SIGTERM", async () => {
	await OpenFeature.close();
	await server.stop();
	process.exit(0);
});
