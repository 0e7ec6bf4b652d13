/**
 * The logging interface the daemon's parts take (a pino logger satisfies it). Structured fields first, message
 * second, as pino does; parts never log to the console directly.
 */
export interface Logger {
	debug(fields: Record<string, unknown>, message: string): void;
	info(fields: Record<string, unknown>, message: string): void;
	warn(fields: Record<string, unknown>, message: string): void;
	error(fields: Record<string, unknown>, message: string): void;
	child(fields: Record<string, unknown>): Logger;
}

/** A logger that drops everything: the default in tests and embedding that pass none. */
export const silentLogger: Logger = {
	debug() {},
	info() {},
	warn() {},
	error() {},
	child() {
		return silentLogger;
	},
};
