import { describe, expect, it } from "@jest/globals";
import { DAEMON_FLAGS, envVarName } from "./daemon-flags.js";
import { readEnvSettings } from "./read-env-settings.js";

describe("readEnvSettings", () => {
	it("maps FLAGD_ + upper snake case of every long flag name", () => {
		const env = Object.fromEntries(
			DAEMON_FLAGS.map((f) => [envVarName(f.name), `v-${f.name}`]),
		);
		const { layer, warnings } = readEnvSettings(env);
		expect(warnings).toEqual([]);
		for (const flag of DAEMON_FLAGS) {
			expect(layer.get(flag.name)?.items).toEqual([
				{
					value: `v-${flag.name}`,
					label: `${envVarName(flag.name)}=v-${flag.name}`,
				},
			]);
		}
		expect(envVarName("keep-alive-permit-without-stream")).toBe(
			"FLAGD_KEEP_ALIVE_PERMIT_WITHOUT_STREAM",
		);
	});

	it("ignores unrelated and empty variables, and reads FLAGD_CONFIG as the config path", () => {
		const { layer, configPath, warnings } = readEnvSettings({
			PATH: "/bin",
			FLAGD_PORT: "",
			FLAGD_DEBUG: undefined,
			FLAGD_CONFIG: "/etc/flagd.yaml",
		});
		expect(layer.size).toBe(0);
		expect(configPath?.value).toBe("/etc/flagd.yaml");
		expect(warnings).toEqual([]);
	});

	it("warns about unknown FLAGD_* names but not about the providers' own variables", () => {
		const { warnings } = readEnvSettings({
			FLAGD_PROT: "1",
			FLAGD_HOST: "localhost",
			FLAGD_RESOLVER: "rpc",
		});
		expect(warnings).toEqual([
			"FLAGD_PROT is not a flagd start setting and is ignored (see flagd start --help)",
		]);
	});
});
