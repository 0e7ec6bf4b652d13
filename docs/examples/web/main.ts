/**
 * Example page for @flagd-ts/web-provider: connects to flagd (host/port from the query string, default: this
 * page's host, port 8013), shows the flags of docs/examples/flags.json for the current user, lets the user change
 * the context and logs every provider event. Build: esbuild docs/examples/web/main.ts --bundle --format=esm
 * --outfile=main.js (the browser test does this at test time). flagd must allow this page's origin
 * (`--cors-origin`, or no list at all).
 */
import { FlagdWebProvider } from "@flagd-ts/web-provider";
import {
	type EvaluationDetails,
	type FlagValue,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/web-sdk";

const DOMAIN = "example";

interface ExampleState {
	readonly status: string;
	readonly events: readonly string[];
	readonly flags: Readonly<Record<string, EvaluationDetails<FlagValue>>>;
}

/** What the page exposes for scripts and the browser test. */
interface ExampleApi {
	readonly ready: Promise<void>;
	setEmail(email: string): Promise<void>;
	state(): ExampleState;
}

declare global {
	interface Window {
		flagdExample: ExampleApi;
	}
}

const params = new URLSearchParams(location.search);
const provider = new FlagdWebProvider({
	host: params.get("host") ?? location.hostname,
	port: Number(params.get("port") ?? 8013),
	tls: params.get("tls") === "true",
	deadlineMs: Number(params.get("deadlineMs") ?? 2000),
	retryBackoffMs: 200,
	retryBackoffMaxMs: 2000,
	retryGracePeriod: 1,
	...(params.get("selector") ? { selector: params.get("selector") ?? "" } : {}),
});
const client = OpenFeature.getClient(DOMAIN);
const events: string[] = [];

function byId<T extends HTMLElement>(id: string): T {
	const element = document.getElementById(id);
	if (element === null) throw new Error(`example page: #${id} is missing`);
	return element as T;
}

function evaluateAll(): Record<string, EvaluationDetails<FlagValue>> {
	return {
		"show-welcome-banner": client.getBooleanDetails(
			"show-welcome-banner",
			false,
		),
		"header-color": client.getStringDetails("header-color", "#555555"),
		"max-items": client.getNumberDetails("max-items", 5),
		"new-checkout": client.getBooleanDetails("new-checkout", false),
	};
}

function render(): void {
	const flags = evaluateAll();
	byId("status").textContent = client.providerStatus;
	byId("banner").hidden = flags["show-welcome-banner"]?.value !== true;
	document.documentElement.style.setProperty(
		"--header-color",
		String(flags["header-color"]?.value),
	);
	const rows = Object.entries(flags).map(([key, d]) => {
		const row = document.createElement("tr");
		for (const text of [
			key,
			JSON.stringify(d.value),
			d.variant ?? "",
			d.reason ?? "",
			d.errorCode ?? "",
		]) {
			const cell = document.createElement("td");
			cell.textContent = text;
			row.append(cell);
		}
		return row;
	});
	byId("flags").replaceChildren(...rows);
	byId("events").replaceChildren(
		...events.map((e) => {
			const item = document.createElement("li");
			item.textContent = e;
			return item;
		}),
	);
}

for (const type of Object.values(ProviderEvents)) {
	client.addHandler(type, (details) => {
		const changed = (details as { flagsChanged?: string[] } | undefined)
			?.flagsChanged;
		const suffix =
			changed && changed.length > 0 ? ` [${changed.join(", ")}]` : "";
		events.push(`${new Date().toISOString().slice(11, 23)} ${type}${suffix}`);
		render();
	});
}

byId<HTMLFormElement>("context-form").addEventListener("submit", (event) => {
	event.preventDefault();
	const email = byId<HTMLInputElement>("email").value;
	void setEmail(email);
});

async function setEmail(email: string): Promise<void> {
	try {
		await OpenFeature.setContext(DOMAIN, { email, targetingKey: email });
	} catch (e: unknown) {
		events.push(`context change failed: ${String(e)}`);
	}
	render();
}

const ready = OpenFeature.setProviderAndWait(DOMAIN, provider, {}).then(
	() => render(),
	(e: unknown) => {
		// The provider keeps reconnecting; READY arrives as an event when flagd answers.
		events.push(`initialize failed: ${String(e)}`);
		render();
	},
);
render();

window.flagdExample = {
	ready,
	setEmail,
	state: () => ({
		status: client.providerStatus,
		events: [...events],
		flags: evaluateAll(),
	}),
};
