/** testbed gherkin/targeting.feature through flagd.evaluation.v1 (Connect JSON) against our daemon, to keep the APIs consistent with v2. */
import { defineFeatureSuite } from "./feature-runner.js";

defineFeatureSuite("targeting.feature", "evaluation-v1");
