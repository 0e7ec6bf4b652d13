/**
 * Connections a provider opens to the real daemon (packages/daemon `startDaemon`, in-process, file source), counted
 * by a TCP proxy in between: over HTTP/2 (gRPC, and Connect with httpVersion "2") evaluations and the event stream
 * share one connection, across initialization, uncached evaluations (several in flight at once) and a change event.
 * Also: a plaintext provider against a TLS daemon (and the reverse) names the likely cause in its error.
 */

import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { fileDaemonHarness } from "../support/file-daemon-harness.js";
import { EMAIL_TARGETED_FLAG } from "../support/flag-fixtures.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";

function flagsDocument(color: string): object {
	return {
		flags: {
			"color-flag": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
			},
			"targeted-flag": EMAIL_TARGETED_FLAG,
		},
	};
}

let tlsFiles: TlsFixtures;
const proxies: TcpProxy[] = [];
let domainCounter = 0;
const { daemon, provider, writeFlags } = fileDaemonHarness({
	name: "flagd-provider-connections-",
	flags: () => flagsDocument("red"),
	domainPrefix: "connections",
	closeBeforeDaemons: async () => {
		for (const p of proxies.splice(0)) await p.close();
	},
});

beforeAll(() => {
	tlsFiles = createTlsFixtures();
});

afterAll(() => {
	tlsFiles.remove();
});

describe("connections to the daemon", () => {
	it.each([
		{ name: "gRPC", options: { transport: "grpc" } },
		{
			name: "Connect over HTTP/2",
			options: { transport: "connect", httpVersion: "2" },
		},
	] as const)(
		"$name: evaluations and the event stream share one TCP connection",
		async ({ options }) => {
			const d = await daemon();
			const proxy = await startTcpProxy({
				target: { host: "127.0.0.1", port: d.ports.evaluation as number },
			});
			proxies.push(proxy);
			// Generous: the first connection of a fresh Jest worker on a loaded 2-core machine can take seconds.
			const p = provider({ port: proxy.port, deadlineMs: 10_000, ...options });
			const domain = `connections-${domainCounter++}`;
			await OpenFeature.setProviderAndWait(domain, p);
			const client = OpenFeature.getClient(domain);
			// Uncached (targeting) evaluations, several in flight at once, then sequential ones.
			const answers = await Promise.all(
				Array.from({ length: 10 }, (_, i) =>
					client.getStringValue("targeted-flag", "x", {
						targetingKey: `user-${i}`,
						email: i % 2 === 0 ? `u${i}@example.com` : `u${i}@other.org`,
					}),
				),
			);
			expect(answers).toEqual(
				Array.from({ length: 10 }, (_, i) =>
					i % 2 === 0 ? "INTERNAL" : "EXTERNAL",
				),
			);
			expect(await client.getStringValue("color-flag", "x")).toBe("red");
			// A change event over the stream, then evaluations again.
			const changed = new Promise<void>((resolve) =>
				client.addHandler(ProviderEvents.ConfigurationChanged, () => resolve()),
			);
			writeFlags(flagsDocument("blue"));
			await changed;
			expect(await client.getStringValue("color-flag", "x")).toBe("blue");
			expect(
				await client.getStringValue("targeted-flag", "x", {
					email: "a@example.com",
				}),
			).toBe("INTERNAL");
			expect(proxy.acceptedCount).toBe(1);
			expect(proxy.connectionCount).toBe(1);
		},
	);
});

describe("TLS mismatch", () => {
	it.each([
		{ transport: "grpc", httpVersion: "2" },
		{ transport: "connect", httpVersion: "2" },
		{ transport: "connect", httpVersion: "1.1" },
	] as const)(
		"a plaintext $transport (HTTP/$httpVersion) provider against a TLS daemon says the server may require TLS",
		async ({ transport, httpVersion }) => {
			const d = await daemon({
				tls: {
					certPath: tlsFiles.serverCertPath,
					keyPath: tlsFiles.serverKeyPath,
				},
			});
			const p = provider({
				port: d.ports.evaluation,
				transport,
				httpVersion,
				deadlineMs: 2000,
			});
			await expect(p.initialize()).rejects.toThrow(
				"the server may require TLS; set tls: true",
			);
			await expect(
				p.resolveBooleanEvaluation("color-flag", false, {}),
			).rejects.toThrow("the server may require TLS; set tls: true");
		},
	);

	it.each([
		{ transport: "grpc", httpVersion: "2" },
		{ transport: "connect", httpVersion: "1.1" },
	] as const)(
		"a TLS $transport (HTTP/$httpVersion) provider against a plaintext daemon says the server may not use TLS",
		async ({ transport, httpVersion }) => {
			const d = await daemon();
			const p = provider({
				host: "localhost",
				port: d.ports.evaluation,
				tls: true,
				certPath: tlsFiles.caCertPath,
				transport,
				httpVersion,
				deadlineMs: 2000,
			});
			await expect(p.initialize()).rejects.toThrow(
				"the server may not use TLS; set tls: false",
			);
			await expect(
				p.resolveBooleanEvaluation("color-flag", false, {}),
			).rejects.toThrow("the server may not use TLS; set tls: false");
		},
	);
});
