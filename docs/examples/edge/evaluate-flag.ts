// `GET /<flag-key>?type=boolean|string|number|object&user=<id>`: the evaluation details of one flag as JSON.
import { type JsonValue, OpenFeature } from "@openfeature/server-sdk";

export async function evaluateFlag(url: URL): Promise<Response> {
	const client = OpenFeature.getClient();
	const flagKey = decodeURIComponent(url.pathname.slice(1));
	const context = { targetingKey: url.searchParams.get("user") ?? "anonymous" };
	switch (url.searchParams.get("type")) {
		case "boolean":
			return Response.json(
				await client.getBooleanDetails(flagKey, false, context),
			);
		case "string":
			return Response.json(await client.getStringDetails(flagKey, "", context));
		case "number":
			return Response.json(await client.getNumberDetails(flagKey, 0, context));
		case "object":
			return Response.json(
				await client.getObjectDetails<JsonValue>(flagKey, {}, context),
			);
		default:
			return new Response("type must be boolean, string, number or object", {
				status: 400,
			});
	}
}

/** The provider's start-up failure as a 503 answer (a request never waits longer than the provider's deadline). */
export function unavailable(err: unknown): Response {
	const message = err instanceof Error ? err.message : String(err);
	return Response.json({ error: message }, { status: 503 });
}
