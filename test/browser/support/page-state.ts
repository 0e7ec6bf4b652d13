/**
 * How the browser tests read their pages: each fixture page exposes `window.<name>.state()` (a plain object the test
 * asserts on). One reader and one waiter for all of them, so a page is polled the same way in every suite.
 */
import type { Page } from "playwright-core";

/** The page's `window[name].state()`. */
export function pageState<T>(page: Page, name: string): Promise<T> {
	return page.evaluate((global) => {
		const api = (window as unknown as Record<string, unknown>)[global] as {
			state(): unknown;
		};
		return api.state() as T;
	}, name);
}

/**
 * Waits until the page has published its state and `predicate` (a JavaScript expression over that state, named
 * `s`) holds.
 */
export async function waitForPageState(
	page: Page,
	name: string,
	predicate: string,
	timeoutMs: number,
): Promise<void> {
	await page.waitForFunction(
		`(() => { const s = window.${name} && window.${name}.state(); return !!s && (${predicate}); })()`,
		undefined,
		{ timeout: timeoutMs, polling: 50 },
	);
}
