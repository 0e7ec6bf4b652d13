/**
 * Lets a suite start independent scenarios together in beforeAll (the docs tests mostly wait on child processes,
 * so this halves their run time) and assert each in its own test: `settled` never rejects, so a scenario that
 * fails before its test awaits it is not an unhandled rejection; `unwrap` rethrows its error inside the test.
 */
export type Settled<T> =
	| { readonly ok: true; readonly value: T }
	| { readonly ok: false; readonly error: unknown };

export function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
	return promise.then(
		(value) => ({ ok: true, value }),
		(error: unknown) => ({ ok: false, error }),
	);
}

export async function unwrap<T>(result: Promise<Settled<T>>): Promise<T> {
	const r = await result;
	if (r.ok) return r.value;
	throw r.error;
}
