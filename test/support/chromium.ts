/**
 * Starts Debian's Chromium (apt package `chromium`, installed by .ci/run) through playwright-core, with the flags
 * this closed-network machine needs (toolchain.md §4). playwright-core never downloads a browser.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The background-networking flags keep Chromium from dialling Google's hosts, which this network refuses. */
const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--disable-quic",
];

/**
 * Whether browser tests can run. Under CI=true a missing Chromium is a failure, never a silent skip: the tests
 * call `requireChromium()` which throws.
 */
export function chromiumAvailable(): boolean {
	return existsSync(CHROMIUM_PATH);
}

export function requireChromium(): void {
	if (!chromiumAvailable()) {
		throw new Error(
			`Chromium not found at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`,
		);
	}
}

/** True when the suite must run (CI, or Chromium present); false only for a local machine without Chromium. */
export function browserTestsEnabled(): boolean {
	return process.env.CI === "true" || chromiumAvailable();
}

export interface LaunchChromiumOptions {
	/**
	 * Keep Chromium's back/forward cache, which playwright turns off: a page left by navigation is then hidden
	 * and frozen, and going back shows it again (`visibilitychange` both ways, `document.visibilityState` really
	 * changing) — the one way to hide a page in headless Chromium, where tabs and windows always stay visible.
	 * @default false
	 */
	readonly backForwardCache?: boolean;
}

export async function launchChromium(
	options: LaunchChromiumOptions = {},
): Promise<Browser> {
	requireChromium();
	return chromium.launch({
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: CHROMIUM_ARGS,
		...(options.backForwardCache === true
			? { ignoreDefaultArgs: ["--disable-back-forward-cache"] }
			: {}),
	});
}
