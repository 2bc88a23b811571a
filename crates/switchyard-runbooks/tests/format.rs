//! The runbook format: every built-in parses and covers its section of `workers-runbook.md`;
//! malformed runbooks are refused with every problem and its line; gates and conditions.

use std::collections::BTreeMap;

use switchyard_core::RunbookSection;
use switchyard_runbooks::{
    blocker, builtin_runbooks, condition_changes, failed_gates, gate_skip_refusal, not_reached,
    parse_runbook, runbook_link, runbook_link_for_heading, settle, ConditionChange, ParamValue,
    ResolvedStepAction, RunStepState, Runbook, RunbookCatalog, RunbookOrigin, StepAction,
    StepBlocker, StepOutcome, StepStatus, UserRunbookFile, BUILTIN_RUNBOOKS, RUNBOOK_SECTIONS,
};

fn parse(src: &str) -> Runbook {
    parse_runbook("t", src, RunbookOrigin::BuiltIn).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn errors(src: &str) -> Vec<(u32, String)> {
    parse_runbook("t", src, RunbookOrigin::BuiltIn)
        .expect_err("the runbook must be refused")
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect()
}

fn workers_runbook() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/workers-runbook.md"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn every_builtin_parses_without_errors() {
    let (runbooks, problems) = builtin_runbooks();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(runbooks.len(), BUILTIN_RUNBOOKS.len());
    for r in &runbooks {
        assert!(!r.steps.is_empty(), "{} has steps", r.id);
        assert!(
            !r.title.is_empty() && !r.summary.is_empty(),
            "{} has a title and summary",
            r.id
        );
        assert!(
            r.replaces.is_some(),
            "{} says which section it replaces",
            r.id
        );
        for s in &r.steps {
            assert!(
                !s.markdown.contains("```switchyard"),
                "{}#{}: the action block is not in the prose",
                r.id,
                s.id
            );
            assert!(
                !s.markdown.contains("- [ ]"),
                "{}#{}: checks are not in the prose",
                r.id,
                s.id
            );
            assert!(
                s.action.is_some() || !s.checks.is_empty(),
                "{}#{} has something to do",
                r.id,
                s.id
            );
        }
    }
}

/// The procedures of the runbook: each top-level section, and each procedure of the sections
/// that hold several (troubleshooting, emergencies, common issues).
fn procedures(text: &str) -> Vec<String> {
    let split_sections = [
        "Troubleshooting Failed Deployments",
        "Emergency Procedures",
        "Common Issues and Solutions",
    ];
    let skip = [
        "Table of Contents",
        "Useful Commands Reference",
        "Additional Resources",
    ];
    let mut out = Vec::new();
    let mut current_h2 = String::new();
    for line in text.lines() {
        if let Some(h2) = line.strip_prefix("## ") {
            current_h2 = h2.trim().to_owned();
            if !skip.contains(&h2.trim()) && !split_sections.contains(&h2.trim()) {
                out.push(current_h2.clone());
            }
        } else if let Some(h3) = line.strip_prefix("### ") {
            if split_sections.contains(&current_h2.as_str()) {
                out.push(h3.trim().to_owned());
            }
        }
    }
    out
}

#[test]
fn every_procedure_of_the_workers_runbook_has_a_builtin() {
    let procedures = procedures(&workers_runbook());
    // 7 plain sections + 3 troubleshooting + 4 emergencies + 6 common issues... and Monitoring.
    assert_eq!(procedures.len(), 20, "{procedures:#?}");
    let (runbooks, _) = builtin_runbooks();
    for p in &procedures {
        let r = runbooks
            .iter()
            .find(|r| r.replaces.as_deref() == Some(p.as_str()));
        assert!(r.is_some(), "no built-in runbook replaces \"{p}\"");
    }
}

fn actions(r: &Runbook) -> Vec<&'static str> {
    r.steps
        .iter()
        .filter_map(|s| s.action.as_ref())
        .map(|a| a.action.name())
        .collect()
}

#[test]
fn builtins_have_the_expected_steps_and_actions() {
    let (runbooks, _) = builtin_runbooks();
    let by_id: BTreeMap<&str, &Runbook> = runbooks.iter().map(|r| (r.id.as_str(), r)).collect();
    let expect: &[(&str, &[&str])] = &[
        (
            "emergency-service-down",
            &["health", "rollback", "health", "redeploy", "note"],
        ),
        (
            "emergency-database-connection-lost",
            &["health", "logs", "rollback", "health"],
        ),
        (
            "emergency-deploy-api-down",
            &["health", "direct-deploy", "note", "health"],
        ),
        (
            "emergency-all-services-down",
            &[
                "health",
                "namespace-get",
                "command",
                "namespace-create",
                "health",
            ],
        ),
        (
            "deploy-service",
            &[
                "command",
                "command",
                "command",
                "deployments",
                "health",
                "command",
            ],
        ),
        (
            "rolling-back",
            &[
                "deployments",
                "rollback",
                "health",
                "redeploy",
                "deployments",
            ],
        ),
        (
            "checking-deployment-status",
            &[
                "deployments",
                "deployments",
                "deployments",
                "health",
                "logs",
            ],
        ),
        (
            "troubleshoot-deploy-500",
            &[
                "deployments",
                "command",
                "command",
                "command",
                "health",
                "namespace-get",
                "namespace-list",
                "direct-deploy",
            ],
        ),
        (
            "troubleshoot-deployed-404",
            &["health", "command", "namespace-scripts", "health"],
        ),
        (
            "troubleshoot-deployed-crashes",
            &["health", "logs", "health", "health", "direct-deploy"],
        ),
        ("creating-a-service", &["command", "command", "deployments"]),
        (
            "managing-namespaces",
            &[
                "namespace-list",
                "namespace-get",
                "namespace-create",
                "namespace-scripts",
            ],
        ),
        (
            "updating-service-bindings",
            &["namespace-scripts", "command", "health"],
        ),
        (
            "monitoring",
            &["health", "health", "health", "deployments", "deployments"],
        ),
        ("issue-service-not-found", &["health", "command", "health"]),
        (
            "issue-service-not-deployed",
            &["namespace-scripts", "deployments", "health"],
        ),
        ("issue-invalid-api-key", &["validate-key", "validate-key"]),
        (
            "issue-insufficient-permissions",
            &["permissions", "permissions"],
        ),
        (
            "issue-build-type-errors",
            &["command", "command", "command", "command"],
        ),
        (
            "issue-tests-fail-after-deployment",
            &["command", "command", "command"],
        ),
    ];
    assert_eq!(expect.len(), runbooks.len());
    for (id, want) in expect {
        let r = by_id.get(id).unwrap_or_else(|| panic!("no built-in {id}"));
        assert_eq!(&actions(r), want, "{id}");
    }
    // The emergency rollback: identify → rollback only if down → a gate on the recovery.
    let r = by_id["emergency-service-down"];
    assert_eq!(r.inputs[0].name, "service");
    let rollback = r.step_by_id("rollback").unwrap();
    let cond = rollback.condition.as_ref().unwrap();
    assert_eq!(
        (cond.step_id.as_str(), cond.outcome),
        ("identify", StepOutcome::Failed)
    );
    assert!(rollback.action.as_ref().unwrap().mutates);
    assert!(r.step_by_id("verify").unwrap().gate);
    assert_eq!(
        r.step_by_id("redeploy")
            .unwrap()
            .action
            .as_ref()
            .unwrap()
            .asks[0]
            .param,
        "version"
    );
    // The Deploy API emergency reaches the direct-to-namespace path when the API is down.
    let r = by_id["emergency-deploy-api-down"];
    let direct = r.step_by_id("direct-deploy").unwrap();
    assert_eq!(
        direct.condition.as_ref().unwrap().step_id,
        "deploy-api-health"
    );
}

#[test]
fn every_runbook_section_links_to_an_existing_runbook_step() {
    let (runbooks, _) = builtin_runbooks();
    let text = workers_runbook();
    for section in RUNBOOK_SECTIONS {
        let link = runbook_link(section);
        let r = runbooks
            .iter()
            .find(|r| r.id == link.runbook_id)
            .unwrap_or_else(|| panic!("{section:?} links to missing runbook {}", link.runbook_id));
        let step = link.step_id.as_deref().unwrap();
        assert!(
            r.step_by_id(step).is_some(),
            "{section:?}: {} has no step {step}",
            r.id
        );
        assert!(
            text.lines()
                .any(|l| l.trim_start_matches('#').trim() == link.heading),
            "{section:?}"
        );
        assert_eq!(
            runbook_link_for_heading(section.heading()),
            Some(link.clone())
        );
    }
    assert_eq!(
        runbook_link_for_heading(RunbookSection::DeployApiDown.heading())
            .unwrap()
            .runbook_id,
        "emergency-deploy-api-down"
    );
    assert_eq!(runbook_link_for_heading("No such heading"), None);
}

#[test]
fn actions_are_typed_with_their_values() {
    let r = parse(
        "---\ninputs: service, folder, env:environment=staging\n---\n# T\n\nWhy.\n\n## One\n\n```switchyard deployments service=$service environment=$env limit=5 status=failed\n```\n\n## Two\n\n```switchyard command folder=$folder timeout=30\nls -l \"my dir\"\n```\n",
    );
    assert_eq!(r.inputs.len(), 3);
    assert_eq!(r.inputs[2].default.as_deref(), Some("staging"));
    let StepAction::Deployments {
        service,
        limit,
        status,
        ..
    } = &r.steps[0].action.as_ref().unwrap().action
    else {
        panic!()
    };
    assert_eq!(service, &Some(ParamValue::Input("service".into())));
    assert_eq!(*limit, 5);
    assert_eq!(status.unwrap().as_str(), "failed");
    let StepAction::Command {
        command,
        timeout_secs,
        ..
    } = &r.steps[1].action.as_ref().unwrap().action
    else {
        panic!()
    };
    assert_eq!(command, "ls -l \"my dir\"");
    assert_eq!(*timeout_secs, 30);

    let inputs = BTreeMap::from([
        ("service".to_owned(), "gateway".to_owned()),
        ("env".to_owned(), "staging".to_owned()),
    ]);
    let resolved = r.steps[0]
        .action
        .as_ref()
        .unwrap()
        .action
        .resolve(&inputs, &BTreeMap::new())
        .unwrap();
    assert_eq!(
        resolved.display(),
        "deployments service=gateway environment=staging limit=5 status=failed"
    );
    // A missing input and a bad value are both reported.
    let bad = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
    let problems = r.steps[0]
        .action
        .as_ref()
        .unwrap()
        .action
        .resolve(&bad, &BTreeMap::new())
        .unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn asked_values_and_command_inputs_resolve() {
    let r = parse(
        "---\ninputs: name:text\n---\n# T\n\n## One\n\n```switchyard redeploy service=? version=?\n```\n\n## Two\n\n```switchyard command folder=?\npnpm create-service --name ${name}\n```\n\n## Three\n\n```switchyard note prompt=\"Who did you call?\"\n```\n",
    );
    let a = &r.steps[0].action.as_ref().unwrap();
    assert_eq!(
        a.asks.iter().map(|f| f.param.as_str()).collect::<Vec<_>>(),
        ["service", "version"]
    );
    let err = a
        .action
        .resolve(&BTreeMap::new(), &BTreeMap::new())
        .unwrap_err();
    assert!(err[0].contains("needs a service"), "{err:?}");
    let asked = BTreeMap::from([
        ("service".to_owned(), "gateway".to_owned()),
        ("version".to_owned(), "v1.2.0".to_owned()),
    ]);
    assert_eq!(
        a.action.resolve(&BTreeMap::new(), &asked).unwrap(),
        ResolvedStepAction::Redeploy {
            service: "gateway".into(),
            version: "v1.2.0".into(),
            environment: None
        }
    );
    let cmd = &r.steps[1].action.as_ref().unwrap().action;
    let folder = BTreeMap::from([("folder".to_owned(), "/tmp".to_owned())]);
    let ok = cmd
        .resolve(
            &BTreeMap::from([("name".to_owned(), "my-svc".to_owned())]),
            &folder,
        )
        .unwrap();
    assert!(
        matches!(ok, ResolvedStepAction::Command { ref command, .. } if command == "pnpm create-service --name my-svc")
    );
    // Values that would need shell quoting are refused, not quoted.
    let err = cmd
        .resolve(
            &BTreeMap::from([("name".to_owned(), "x; rm -rf ~".to_owned())]),
            &folder,
        )
        .unwrap_err();
    assert!(err[0].contains("cannot go into a shell command"), "{err:?}");
    let note = &r.steps[2].action.as_ref().unwrap();
    assert_eq!(note.asks[0].param, "text");
    assert!(
        matches!(note.action, StepAction::Note { prompt: Some(ref p) } if p == "Who did you call?")
    );
}

#[test]
fn unknown_actions_and_bad_params_are_reported_with_lines() {
    let src = "# Title\n\n## One\n\n```switchyard restart service=gateway\n```\n\n## Two\n\n```switchyard health target=everything colour=red\n```\n\n## Three\n\n```switchyard deployments limit=500 status=broken service=Not_A_Service\n```\n\n## Four\n\n```switchyard rollback\n```\n";
    let e = errors(src);
    let lines: Vec<u32> = e.iter().map(|(l, _)| *l).collect();
    assert!(
        e.iter().any(|(l, m)| *l == 5
            && m.contains("unknown action \"restart\"")
            && m.contains("health")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 10 && m.contains("no parameter \"colour\"")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 10 && m.contains("target \"everything\"")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 15 && m.contains("limit \"500\"")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 15 && m.contains("status")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 15 && m.contains("service")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 20 && m.contains("rollback needs service=")),
        "{e:#?}"
    );
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "sorted by line");
}

#[test]
fn malformed_blocks_are_reported_with_lines() {
    // Missing action, unclosed quote, stray word, undeclared input, `?` on a literal, body on a
    // non-command, empty command, two actions in one step.
    let src = "# Title\n\n## One\n\n```switchyard\n```\n\n## Two\n\n```switchyard note prompt=\"unclosed\n```\n\n## Three\n\n```switchyard health gateway\n```\n\n## Four\n\n```switchyard rollback service=$svc\n```\n\n## Five\n\n```switchyard deployments limit=?\n```\n\n## Six\n\n```switchyard health\ncurl https://gateway.do/health\n```\n\n## Seven\n\n```switchyard command folder=/tmp\n```\n\n## Eight\n\n```switchyard health\n```\n\n```switchyard validate-key\n```\n";
    let e = errors(src);
    let has = |line: u32, needle: &str| e.iter().any(|(l, m)| *l == line && m.contains(needle));
    assert!(has(5, "not which action"), "{e:#?}");
    assert!(has(10, "quote is not closed"), "{e:#?}");
    assert!(has(15, "\"gateway\" is not a parameter"), "{e:#?}");
    assert!(has(20, "does not declare"), "{e:#?}");
    assert!(has(25, "must be written in the runbook"), "{e:#?}");
    assert!(has(30, "only the command action has a body"), "{e:#?}");
    assert!(has(36, "command block is empty"), "{e:#?}");
    assert!(has(44, "already has an action"), "{e:#?}");
    assert_eq!(e.len(), 8, "{e:#?}");
}

#[test]
fn structure_mistakes_are_reported_with_lines() {
    // No title at all.
    let e = errors("Some text.\n\n## Step\n\n- [ ] check\n");
    assert!(
        e.iter()
            .any(|(l, m)| *l == 1 && m.contains("before the runbook's title")),
        "{e:#?}"
    );
    assert!(e.iter().any(|(_, m)| m.contains("no title")), "{e:#?}");
    // A check and an action before the first step; a second title; no steps.
    let e = errors("# T\n\n- [ ] early check\n\n```switchyard health\n```\n\n# Another\n");
    assert!(
        e.iter()
            .any(|(l, m)| *l == 3 && m.contains("before the first step")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 5 && m.contains("before the first step")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 8 && m.contains("second title")),
        "{e:#?}"
    );
    assert!(e.iter().any(|(_, m)| m.contains("no steps")), "{e:#?}");
    // Front matter: unknown key, bad input, never closed.
    let e = errors("---\ncolour: red\ninputs: service:thing, Bad Name\n");
    assert!(
        e.iter()
            .any(|(l, m)| *l == 2 && m.contains("unknown front matter key \"colour\"")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 3 && m.contains("unknown kind \"thing\"")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 3 && m.contains("\"Bad Name\"")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 1 && m.contains("never closed")),
        "{e:#?}"
    );
    // Heading attributes: unknown word, bad condition, condition on a later / unknown step,
    // duplicate ids.
    let e = errors("# T\n\n## A {#a flashy}\n\n- [ ] x\n\n## B {when=c:failed}\n\n- [ ] x\n\n## C {#c when=a:broken}\n\n- [ ] x\n\n## D {when=zzz:passed}\n\n- [ ] x\n\n## A {#a}\n\n- [ ] x\n");
    assert!(
        e.iter()
            .any(|(l, m)| *l == 3 && m.contains("unknown heading attribute \"flashy\"")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 7 && m.contains("later one")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 11 && m.contains("is not a condition")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == 15 && m.contains("refers to no step")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|(l, m)| *l == 19 && m.contains("used twice")),
        "{e:#?}"
    );
}

#[test]
fn steps_keep_their_markdown_checks_and_ids() {
    let r = parse("# Title\n\nIntro **text**.\n\n## 1. Check the *gateway*\n\nLook at it.\n\n- [ ] It is up\n- [ ] Logs read\n\n```bash\ncurl x\n```\n\n### Details\n\nMore.\n\n## Roll back {#rb gate}\n\n```switchyard rollback service=gateway\n```\n");
    assert_eq!(r.summary, "Intro **text**.");
    let s = &r.steps[0];
    assert_eq!(
        (s.id.as_str(), s.title.as_str(), s.line),
        ("1-check-the-gateway", "1. Check the *gateway*", 5)
    );
    assert_eq!(
        s.checks
            .iter()
            .map(|c| (c.text.as_str(), c.line))
            .collect::<Vec<_>>(),
        [("It is up", 9), ("Logs read", 10)]
    );
    assert_eq!(
        s.markdown,
        "Look at it.\n\n```bash\ncurl x\n```\n\n### Details\n\nMore."
    );
    assert_eq!((r.steps[1].id.as_str(), r.steps[1].gate), ("rb", true));
    assert_eq!(
        r.steps[1].action.as_ref().unwrap().source,
        "switchyard rollback service=gateway"
    );
}

fn statuses(r: &Runbook) -> Vec<StepStatus> {
    r.steps.iter().map(StepStatus::new).collect()
}

fn end(r: &Runbook, st: &mut [StepStatus], i: usize, outcome: StepOutcome) {
    st[i].action_outcome = Some(outcome);
    st[i].state = RunStepState::Pending;
    st[i].state = settle(&r.steps[i], &st[i]);
    for c in condition_changes(r, st) {
        match c {
            ConditionChange::Skip { index, .. } => {
                st[index as usize].state = RunStepState::Skipped;
                st[index as usize].skipped_by_condition = true;
            }
            ConditionChange::Restore { index } => {
                st[index as usize].state = RunStepState::Pending;
                st[index as usize].skipped_by_condition = false;
            }
        }
    }
}

const EMERGENCY: &str = "# T\n\n## Identify {#identify}\n\n```switchyard health service=gateway\n```\n\n## Roll back {#rollback when=identify:failed}\n\n```switchyard rollback service=gateway\n```\n\n## Verify {#verify gate}\n\n```switchyard health service=gateway\n```\n\n## Redeploy {#redeploy when=verify:failed}\n\n```switchyard redeploy service=gateway version=?\n```\n\n## Notify\n\n- [ ] Team told\n";

#[test]
fn conditions_skip_and_restore_steps() {
    let r = parse(EMERGENCY);
    let mut st = statuses(&r);
    // Nothing ended yet: the rollback waits for the check.
    assert!(matches!(
        blocker(&r, &st, 1),
        Some(StepBlocker::WaitingFor { step_index: 0, .. })
    ));
    // The service is up: the rollback is not needed and is skipped with the reason.
    end(&r, &mut st, 0, StepOutcome::Passed);
    assert_eq!(st[1].state, RunStepState::Skipped);
    let changes = condition_changes(&r, &statuses(&r));
    assert!(changes.is_empty());
    // The check is run again and fails: the rollback is back.
    end(&r, &mut st, 0, StepOutcome::Failed);
    assert_eq!(st[1].state, RunStepState::Pending);
    assert_eq!(blocker(&r, &st, 1), None);
    // Chains: a skipped step counts as "not passed/failed" for the step that looks at it.
    let first = condition_changes(&r, &{
        let mut s = statuses(&r);
        s[0].state = RunStepState::Passed;
        s
    });
    assert!(
        matches!(&first[0], ConditionChange::Skip { index: 1, reason } if reason.contains("runs only if it failed"))
    );
}

#[test]
fn gates_lock_later_steps_except_their_way_out() {
    let r = parse(EMERGENCY);
    let mut st = statuses(&r);
    end(&r, &mut st, 0, StepOutcome::Failed);
    end(&r, &mut st, 1, StepOutcome::Passed);
    // The gate has not passed: the last step is locked…
    assert!(matches!(
        blocker(&r, &st, 4),
        Some(StepBlocker::Gate { step_index: 2, .. })
    ));
    // …and the redeploy waits for the gate's outcome.
    assert!(matches!(
        blocker(&r, &st, 3),
        Some(StepBlocker::WaitingFor { step_index: 2, .. })
    ));
    end(&r, &mut st, 2, StepOutcome::Failed);
    // The gate failed: its way out is open, the rest still locked.
    assert_eq!(blocker(&r, &st, 3), None);
    assert!(matches!(
        blocker(&r, &st, 4),
        Some(StepBlocker::Gate { .. })
    ));
    end(&r, &mut st, 3, StepOutcome::Passed);
    end(&r, &mut st, 2, StepOutcome::Passed);
    assert_eq!(blocker(&r, &st, 4), None);
    // The redeploy already ran: passing the gate later does not skip it after the fact.
    assert_eq!(st[3].state, RunStepState::Passed);
    assert!(StepBlocker::Gate {
        step_index: 2,
        step_title: "Verify".into()
    }
    .message()
    .contains("Step 3 \"Verify\" is a gate"));
}

#[test]
fn steps_settle_from_their_action_and_checks() {
    let r = parse("# T\n\n## A\n\n- [ ] one\n- [ ] two\n\n```switchyard health\n```\n\n## B\n\n- [ ] only\n\n## C\n\nJust read this.\n");
    let mut st = statuses(&r);
    st[0].action_outcome = Some(StepOutcome::Passed);
    assert_eq!(
        settle(&r.steps[0], &st[0]),
        RunStepState::Pending,
        "checks not ticked yet"
    );
    st[0].checks = vec![true, true];
    assert_eq!(settle(&r.steps[0], &st[0]), RunStepState::Passed);
    st[0].action_outcome = Some(StepOutcome::Failed);
    assert_eq!(settle(&r.steps[0], &st[0]), RunStepState::Failed);
    st[1].checks = vec![true];
    assert_eq!(settle(&r.steps[1], &st[1]), RunStepState::Passed);
    assert_eq!(
        settle(&r.steps[2], &st[2]),
        RunStepState::Pending,
        "prose-only steps are marked done by hand"
    );
}

#[test]
fn a_broken_user_file_never_hides_the_builtins() {
    let catalog = RunbookCatalog::load(vec![
        UserRunbookFile {
            stem: "good".into(),
            path: "/x/good.md".into(),
            content: Ok("# Mine\n\n## Do it\n\n- [ ] done\n".into()),
        },
        UserRunbookFile {
            stem: "broken".into(),
            path: "/x/broken.md".into(),
            content: Ok("# Broken\n\n## S\n\n```switchyard explode\n```\n".into()),
        },
        UserRunbookFile {
            stem: "unreadable".into(),
            path: "/x/unreadable.md".into(),
            content: Err("permission denied".into()),
        },
        // Same stem as a built-in: it gets its own id.
        UserRunbookFile {
            stem: "rolling-back".into(),
            path: "/x/rolling-back.md".into(),
            content: Ok("# My rollback\n\n## S\n\n- [ ] x\n".into()),
        },
    ]);
    assert_eq!(catalog.runbooks.len(), BUILTIN_RUNBOOKS.len() + 2);
    assert_eq!(
        catalog.get("rolling-back").unwrap().origin,
        RunbookOrigin::BuiltIn
    );
    assert_eq!(
        catalog.get("user/rolling-back").unwrap().title,
        "My rollback"
    );
    assert_eq!(catalog.get("user/good").unwrap().category, "My runbooks");
    assert_eq!(catalog.problems.len(), 2);
    let broken = &catalog.problems[0];
    assert_eq!(
        (broken.runbook_id.as_str(), broken.file.as_str()),
        ("user/broken", "/x/broken.md")
    );
    assert_eq!(broken.errors[0].line, 5);
    assert!(catalog.problems[1].errors[0]
        .message
        .contains("permission denied"));
}

#[test]
fn types_serialize_for_the_window() {
    let r = parse(EMERGENCY);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["steps"][1]["action"]["action"]["kind"], "rollback");
    assert_eq!(
        json["steps"][1]["action"]["action"]["service"]["from"],
        "literal"
    );
    assert_eq!(json["steps"][1]["condition"]["stepId"], "identify");
    assert_eq!(json["steps"][3]["action"]["asks"][0]["kind"], "version");
    assert_eq!(json["origin"], "builtIn");
}

#[test]
fn a_logs_block_names_a_service_and_a_bounded_number_of_seconds() {
    let r = parse("# L\n\n## Tail {#t}\n\n```switchyard logs service=db\n```\n");
    assert!(matches!(
        r.steps[0].action.as_ref().map(|a| &a.action),
        Some(StepAction::Logs { seconds: 20, .. })
    ));
    let e = errors("# L\n\n## Tail {#t}\n\n```switchyard logs service=db seconds=301\n```\n");
    assert!(e.iter().any(|(_, m)| m.contains("from 1 to 300")), "{e:?}");
    let e = errors("# L\n\n## Tail {#t}\n\n```switchyard logs seconds=5\n```\n");
    assert!(
        e.iter().any(|(_, m)| m.contains("logs needs service=")),
        "{e:?}"
    );
}

/// A stored run can hold fewer statuses than its runbook has steps (a user runbook that gained
/// steps since the run began): the rules answer for every step without a panic.
#[test]
fn a_run_with_fewer_statuses_than_steps_is_answered_without_a_panic() {
    let r = parse(EMERGENCY);
    for kept in 0..r.steps.len() {
        let mut st = statuses(&r);
        st.truncate(kept);
        for i in 0..r.steps.len() as u32 + 2 {
            let _ = blocker(&r, &st, i);
            let _ = gate_skip_refusal(&r, i);
        }
        let _ = not_reached(&r, &st);
        let _ = failed_gates(&r, &st);
        let _ = condition_changes(&r, &st);
    }
    // With every status the rules answer as before: the gate "Verify" fails nothing yet.
    assert!(failed_gates(&r, &statuses(&r)).is_empty());
}
