/** A one-line description of anything thrown, for log fields and error messages (never `[object Object]`). */
export function describeError(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as { code?: unknown }).code;
		const prefix = typeof code === "string" && code !== "" ? `${code}: ` : "";
		const message = error.message === "" ? error.name : error.message;
		return message.startsWith(prefix) ? message : `${prefix}${message}`;
	}
	if (typeof error === "string") return error;
	try {
		return JSON.stringify(error) ?? String(error);
	} catch {
		return String(error);
	}
}
