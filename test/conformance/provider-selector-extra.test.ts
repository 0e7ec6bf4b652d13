/**
 * Extra, beyond the rpc suite: testbed gherkin/selector.feature is tagged @in-process only, but the same source
 * selector reaches the daemon from RPC clients as the `flagd-selector` header. Running it through
 * @flagd-ts/provider checks the daemon's selector views. Reported on its own line, not in the @rpc counts.
 */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("selector.feature", "provider", {
	alsoRunTag: "@in-process",
});
