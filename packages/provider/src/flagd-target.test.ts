import { describe, expect, it } from "@jest/globals";
import { parseTargetUri, resolveFlagdTarget } from "./flagd-target.js";

const base = {
	host: "localhost",
	port: 8013,
	socketPath: undefined,
	targetUri: undefined,
	defaultAuthority: undefined,
};

describe("resolveFlagdTarget", () => {
	it("uses host and port by default", () => {
		expect(resolveFlagdTarget(base)).toEqual({
			kind: "tcp",
			host: "localhost",
			port: 8013,
			authority: "localhost:8013",
		});
	});

	it("prefers socketPath over targetUri and host/port", () => {
		expect(
			resolveFlagdTarget({
				...base,
				socketPath: "/tmp/f.sock",
				targetUri: "envoy://a:1/b",
			}),
		).toEqual({
			kind: "unix",
			path: "/tmp/f.sock",
			authority: "localhost",
		});
	});

	it("applies defaultAuthority to any target", () => {
		expect(
			resolveFlagdTarget({ ...base, defaultAuthority: "svc.local" }).authority,
		).toBe("svc.local");
	});

	it("brackets IPv6 hosts in the authority", () => {
		expect(resolveFlagdTarget({ ...base, host: "::1" }).authority).toBe(
			"[::1]:8013",
		);
	});
});

describe("parseTargetUri", () => {
	it("parses envoy://host:port/authority", () => {
		expect(parseTargetUri("envoy://localhost:9211/rpc.service")).toEqual({
			kind: "tcp",
			host: "localhost",
			port: 9211,
			authority: "rpc.service",
		});
	});

	it.each([
		["dns:flagd:8013", "flagd", 8013],
		["dns:///flagd:8013", "flagd", 8013],
		["dns://8.8.8.8/flagd:8013", "flagd", 8013],
		["flagd:8013", "flagd", 8013],
		["dns:[::1]:8013", "::1", 8013],
	])("parses %s", (uri, host, port) => {
		expect(parseTargetUri(uri)).toMatchObject({ kind: "tcp", host, port });
	});

	it("parses unix targets", () => {
		expect(parseTargetUri("unix:///var/run/flagd.sock")).toMatchObject({
			kind: "unix",
			path: "/var/run/flagd.sock",
		});
		expect(parseTargetUri("unix:/var/run/flagd.sock")).toMatchObject({
			kind: "unix",
			path: "/var/run/flagd.sock",
		});
	});

	it.each([
		"path",
		"xds:///svc",
		"envoy://nohostport/x",
		"dns:flagd:99999",
		"http://a:1",
	])("rejects %s naming targetUri", (uri) => {
		expect(() => parseTargetUri(uri)).toThrow(/option "targetUri"/);
	});
});
