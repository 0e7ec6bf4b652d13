/** testbed gherkin/targeting.feature through OFREP (plain fetch on the ofrep port) against our daemon, to keep the APIs consistent with v2. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("targeting.feature", "ofrep");
