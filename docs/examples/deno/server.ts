// A Deno HTTP server that evaluates a flag per request with @flagd-ts/provider (the `deno` export condition picks
// the fetch-based build). Run with:
//   deno run --allow-net=127.0.0.1 --allow-env=FLAGD_HOST,FLAGD_PORT,PORT server.ts
import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";

// FLAGD_HOST / FLAGD_PORT (and the other FLAGD_* variables --allow-env grants) configure the provider.
await OpenFeature.setProviderAndWait(new FlagdProvider());
const flags = OpenFeature.getClient();

const server = Deno.serve(
	{
		hostname: "127.0.0.1",
		port: Number(Deno.env.get("PORT") ?? "8000"),
		onListen: ({ hostname, port }) =>
			console.log(`listening on http://${hostname}:${port}/`),
	},
	async () => {
		const greeting = await flags.getStringDetails("greeting", "hello");
		return Response.json({
			greeting: greeting.value,
			reason: greeting.reason,
		});
	},
);

// Close the provider's stream and the server, then exit.
Deno.addSignalListener("SIGTERM", async () => {
	await OpenFeature.close();
	await server.shutdown();
	Deno.exit(0);
});
