//! The rule engine passes the field extractor's conformance suite.

use intake_domain::testkit::fields::run_suite;
use intake_fields::RuleExtractor;

#[tokio::test]
async fn the_rule_engine_conforms() {
    run_suite(&RuleExtractor::default()).await;
}
