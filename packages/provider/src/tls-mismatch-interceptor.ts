/**
 * A Connect interceptor that names the likely cause when a call fails before any response because the client
 * and the server disagree about TLS. Without it, a plaintext client talking to a TLS port sees only
 * `[canceled] http/2 stream closed with error code CANCEL (0x8)` (HTTP/2) or `socket hang up` (HTTP/1.1), and a
 * TLS client talking to a plaintext port an OpenSSL "wrong version number".
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Hint added to a plaintext call that failed the way a TLS server answers a plaintext client. */
export const TLS_REQUIRED_HINT = "the server may require TLS; set tls: true";
/** Hint added to a TLS call that failed the way a plaintext server answers a TLS handshake. */
export const TLS_NOT_SPOKEN_HINT = "the server may not use TLS; set tls: false";

/** What a TLS listener does to an h2c preface or an HTTP/1.1 request: reset or close without answering. */
const PLAINTEXT_REFUSED =
	/stream closed with error code CANCEL|socket hang up|ECONNRESET/;
/** OpenSSL's view of a plaintext answer to a ClientHello. */
const NOT_TLS =
	/wrong version number|packet length too long|unknown protocol|ERR_SSL_/i;

/** See the file comment; `tls` is the provider's `tls` option. */
export function tlsMismatchInterceptor(tls: boolean): Interceptor {
	const pattern = tls ? NOT_TLS : PLAINTEXT_REFUSED;
	const hint = tls ? TLS_NOT_SPOKEN_HINT : TLS_REQUIRED_HINT;
	// Only a rejection of next() is considered: it means no response headers arrived. Errors later in a stream are
	// about that stream, not the handshake.
	return (next) => (request) =>
		next(request).catch((err: unknown) => {
			throw withHint(err, pattern, hint);
		});
}

function withHint(err: unknown, pattern: RegExp, hint: string): unknown {
	const error = ConnectError.from(err);
	if (
		error.code === Code.DeadlineExceeded ||
		!pattern.test(error.rawMessage) ||
		error.rawMessage.includes(hint)
	)
		return err;
	return new ConnectError(
		`${error.rawMessage} (${hint})`,
		error.code,
		error.metadata,
		// A call that got no response has no error details to carry.
		undefined,
		error,
	);
}
