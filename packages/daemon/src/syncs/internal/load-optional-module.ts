/**
 * Loads an optional dependency (cloud SDKs, the Kubernetes client) on first use, so users without it can still run
 * file/http/grpc sources. A missing package becomes a clear DaemonError naming what to install.
 */
import { DaemonError } from "../../errors.js";

export async function loadOptionalModule<T>(
	packageName: string,
	purpose: string,
	load: () => Promise<T>,
): Promise<T> {
	try {
		return await load();
	} catch (error: unknown) {
		const code = (error as { code?: unknown }).code;
		const missing =
			code === "ERR_MODULE_NOT_FOUND" ||
			code === "MODULE_NOT_FOUND" ||
			/Cannot find (module|package)/.test(String(error));
		throw new DaemonError(
			"SOURCE_UNAVAILABLE",
			missing
				? `${purpose} needs the optional dependency "${packageName}"; install it (npm install ${packageName})`
				: `${purpose}: loading "${packageName}" failed: ${String(error)}`,
			{ cause: error },
		);
	}
}
