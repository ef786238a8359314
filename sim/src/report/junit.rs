//! `junit.xml`: one test suite per scenario, holding one test case for the scenario as a whole
//! and one per failing seed, each failure carrying the command that replays it.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::summary::Summary;

/// The JUnit XML of a report.
pub fn render(summary: &Summary) -> Result<String, String> {
    let mut report = Report::new("driftsync");
    for scenario in &summary.scenarios {
        let mut suite = TestSuite::new(scenario.name.clone());
        let seeds = scenario.passed + scenario.failed;
        let mut whole = if scenario.failed == 0 {
            TestCase::new(format!("{}: {seeds} seeds", scenario.name), TestCaseStatus::success())
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{} of {seeds} seeds failed", scenario.failed));
            status.set_type("invariant");
            TestCase::new(format!("{}: {seeds} seeds", scenario.name), status)
        };
        whole.set_classname(scenario.path.clone());
        whole.set_system_out(format!(
            "{} passed, {} failed; seeds digest {}\n",
            scenario.passed, scenario.failed, scenario.seeds_digest
        ));
        suite.add_test_case(whole);
        for seed in &scenario.failing_seeds {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = seed.failures.first();
            status.set_message(first.map_or_else(String::new, ToString::to_string));
            status.set_type(first.map_or("failure", |f| f.checker.as_str()));
            let details: Vec<String> = seed.failures.iter().map(ToString::to_string).collect();
            status.set_description(details.join("\n"));
            let mut case = TestCase::new(format!("{} seed {}", scenario.name, seed.seed), status);
            case.set_classname(scenario.path.clone());
            case.set_system_out(format!("replay: {}\n", seed.replay));
            suite.add_test_case(case);
        }
        if scenario.failing_seeds_omitted > 0 {
            suite.set_system_out(format!(
                "{} more failing seeds are not listed; see summary.json\n",
                scenario.failing_seeds_omitted
            ));
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|error| format!("cannot serialise junit.xml: {error}"))
}
