import type { Transport } from "@connectrpc/connect";

/** A Connect transport plus the means to release its connections. */
export interface FlagdTransport {
	readonly transport: Transport;
	/** Where it connects, for log messages. */
	readonly description: string;
	/**
	 * True when every request goes out in the protobuf binary encoding (gRPC, Connect with `useBinaryFormat`):
	 * evaluation requests may then carry their context already encoded, as an unknown field.
	 */
	readonly binaryFormat?: boolean;
	/** Drops every open connection; the next call dials a new one (used when a connection stops answering). */
	resetConnections(): void;
	/** Closes every connection of this transport; nothing is left open afterwards. */
	close(): void;
}
