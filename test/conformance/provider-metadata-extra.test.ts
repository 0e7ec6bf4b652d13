/**
 * Extra, beyond the rpc suite: testbed gherkin/metadata.feature is tagged for in-process/file providers only, but
 * flag and flag-set metadata reach RPC clients too (evaluation v2 `metadata`). Running it through
 * @flagd-ts/provider checks the daemon's metadata merge and exercises the metadata-table steps. Reported on its
 * own line, not in the @rpc counts.
 */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("metadata.feature", "provider", { alsoRunTag: "@metadata" });
