/**
 * A React page whose flags come from the daemon over OFREP: `OfrepWebProvider` behind `@openfeature/react-sdk`.
 * A change to the flag file reaches the page through the daemon's event stream and re-renders the components that
 * use the changed flags, without a reload. Query parameters: `baseUrl` (default: this host, port 8016) and
 * `selector`.
 */
import { OfrepWebProvider } from "@flagd-ts/web-provider/ofrep";
import {
	OpenFeature,
	OpenFeatureProvider,
	useBooleanFlagValue,
	useFlag,
	useNumberFlagValue,
	useOpenFeatureClientStatus,
} from "@openfeature/react-sdk";
import { StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(location.search);
const provider = new OfrepWebProvider({
	baseUrl:
		params.get("baseUrl") ?? `${location.protocol}//${location.hostname}:8016`,
	selector: params.get("selector") ?? undefined,
});
void OpenFeature.setProviderAndWait(provider, {
	targetingKey: "visitor-1",
	email: "visitor@example.com",
});

function Header() {
	const color = useFlag("header-color", "#555555");
	const status = useOpenFeatureClientStatus();
	return (
		<header style={{ background: color.value }}>
			<h1>Flags over OFREP</h1>
			<span>
				status: <span id="status">{status}</span>
			</span>
			<output id="header-color">{color.value}</output>
		</header>
	);
}

function Items() {
	const maxItems = useNumberFlagValue("max-items", 3);
	const banner = useBooleanFlagValue("show-welcome-banner", false);
	return (
		<main>
			{banner ? <p id="banner">Welcome back!</p> : null}
			<p>
				Showing up to <output id="max-items">{maxItems}</output> items.
			</p>
		</main>
	);
}

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root");
createRoot(root).render(
	<StrictMode>
		<OpenFeatureProvider suspendUntilReady>
			<Suspense fallback={<p id="loading">Loading flags…</p>}>
				<Header />
				<Items />
			</Suspense>
		</OpenFeatureProvider>
	</StrictMode>,
);
