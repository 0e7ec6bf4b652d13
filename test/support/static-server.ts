/**
 * A tiny static file server on 127.0.0.1 for browser tests: serves a page and its bundle from memory or a folder.
 * Tracks sockets so close() never hangs on keep-alive connections.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".json": "application/json",
	".map": "application/json",
};

export interface StaticServer {
	readonly origin: string;
	close(): Promise<void>;
}

export interface StaticServerOptions {
	/** Files served from memory, by URL path (e.g. "/index.html"). Checked before `root`. */
	readonly files?: Readonly<Record<string, string | Uint8Array>>;
	/** A folder served below "/". */
	readonly root?: string;
}

export async function startStaticServer(
	options: StaticServerOptions,
): Promise<StaticServer> {
	const files = options.files ?? {};
	const server: Server = createServer((req, res) => {
		const path = new URL(req.url ?? "/", "http://localhost").pathname;
		const key = path === "/" ? "/index.html" : path;
		const type = CONTENT_TYPES[extname(key)] ?? "application/octet-stream";
		const inMemory = files[key];
		if (inMemory !== undefined) {
			res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
			res.end(inMemory);
			return;
		}
		if (options.root === undefined || normalize(key).includes("..")) {
			res.writeHead(404).end("not found");
			return;
		}
		readFile(join(options.root, normalize(key)))
			.then((body) => {
				res.writeHead(200, {
					"content-type": type,
					"cache-control": "no-store",
				});
				res.end(body);
			})
			.catch(() => res.writeHead(404).end("not found"));
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		origin: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((err) => (err ? reject(err) : resolve()));
			}),
	};
}
