// One Jest run for every package and the cross-package tests in test/. Tests import workspace packages by name;
// the mapper points those names at their TypeScript sources, so no build is needed before `npm test`.
// ESM-only dependencies are down-compiled by swc (toolchain.md §5).
const esmOnly = [
	"chokidar",
	"readdirp",
	"@kubernetes/client-node",
	"openid-client",
	"oauth4webapi",
	"jose",
	"jsonpath-plus",
	"@jsep-plugin",
	"jsep",
];
const swc = [
	"@swc/jest",
	{
		jsc: { parser: { syntax: "typescript" }, target: "es2022" },
		module: { type: "commonjs" },
	},
];
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/packages", "<rootDir>/test", "<rootDir>/bench"],
	testMatch: ["**/*.test.ts"],
	testPathIgnorePatterns: ["/node_modules/", "/dist/"],
	moduleNameMapper: {
		"^@flagd-ts/protocol$": "<rootDir>/packages/protocol/src/index.ts",
		"^@flagd-ts/protocol/(.*)$": "<rootDir>/packages/protocol/src/$1",
		"^@flagd-ts/provider/edge$":
			"<rootDir>/packages/provider/src/edge/index.ts",
		"^@flagd-ts/(evaluator|provider-core|provider|web-provider|daemon)$":
			"<rootDir>/packages/$1/src/index.ts",
		"^(\\.{1,2}/.*)\\.js$": "$1",
	},
	transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join("|")})/)`],
	transform: { "^.+\\.(t|j|mj)sx?$": swc },
	reporters: ["default", "<rootDir>/scripts/jest-summary-reporter.cjs"],
	testTimeout: 30000,
};
