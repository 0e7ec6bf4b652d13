/**
 * What the bulk APIs answer before every sync source has delivered its first flags (the state /readyz reports as
 * 412): an empty or partial flag set would look like a real one, so ResolveAll fails with UNAVAILABLE and OFREP
 * bulk with 503 and a Retry-After, both retryable, rather than answering from flags that do not exist yet.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** The message of both answers. */
export const NOT_READY_MESSAGE =
	"flagd is not ready: waiting for the first flags from every sync source";

/** Seconds an OFREP client is asked to wait before retrying. */
export const NOT_READY_RETRY_AFTER_SECONDS = 1;

/** The ResolveAll error before the first sync. */
export function notReadyError(): ConnectError {
	return new ConnectError(NOT_READY_MESSAGE, Code.Unavailable);
}
