//! The audit log through the façade, against a real sandbox (real HTTP), a real SQLite file and
//! an in-memory keychain: what the window lists with its filters, and what the exports hold.

use switchyard_core::{AuditFilter, AuditOutcome, Environment, ErrorCode, SANDBOX_PROFILE_ID};
use switchyard_ops::{AuditRow, Ops};
use switchyard_secrets::{Secret, SecretKind};

mod support;
use support::{fixture, Fixture, T0};

const SB: &str = SANDBOX_PROFILE_ID;
const MINUTE: i64 = 60_000;
/// A Cloudflare token nobody else would write: it must appear in no export and no file.
const TOKEN: &str = "cf-token-Zq81-never-in-the-audit-log";

/// A minute of work on two profiles: keys saved and checked, a profile chosen, a setting changed,
/// namespaces created (one refused). The Deploy API key saved is the sandbox's real one.
async fn a_session(f: &Fixture) -> String {
    let d = f.sandbox.discovery().clone();
    let p = support::user_profile(&d, "rehearsal", "Rehearsal", Environment::Staging);
    f.ops.save_profile(p).await.unwrap();
    f.clock.advance(MINUTE);
    f.ops
        .set_secret(
            "rehearsal",
            SecretKind::DeployApiKey,
            Secret::new(d.deploy_key.clone()),
        )
        .await
        .unwrap();
    f.ops
        .set_secret("rehearsal", SecretKind::CloudflareToken, Secret::new(TOKEN))
        .await
        .unwrap();
    // Refused (spaces around it), and recorded as refused, without the value either.
    let e = f
        .ops
        .set_secret(
            "rehearsal",
            SecretKind::CloudflareToken,
            Secret::new(format!(" {TOKEN} ")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(f.ops.validate_key("rehearsal").await.unwrap().can_deploy);
    f.clock.advance(MINUTE);
    f.ops.select_profile("rehearsal").await.unwrap();
    f.ops.set_correlation_window_minutes(20).await.unwrap();
    f.ops.select_profile(SB).await.unwrap();
    f.clock.advance(MINUTE);
    f.ops
        .create_namespace(SB, "dotdo-audit-trail")
        .await
        .unwrap();
    let e = f
        .ops
        .create_namespace(SB, "Not A Namespace!")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    d.deploy_key
}

fn all() -> AuditFilter {
    AuditFilter::default()
}

async fn every_entry(ops: &Ops) -> Vec<AuditRow> {
    let page = ops.audit_entries(&all()).await.unwrap();
    assert_eq!(page.entries.len() as u32, page.total);
    page.entries
}

#[tokio::test]
async fn every_change_of_the_session_is_listed_newest_first_with_its_outcome() {
    let f = fixture().await;
    a_session(&f).await;
    let entries = every_entry(&f.ops).await;
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .rev()
        .map(|e| (e.action.as_str(), e.profile_id.as_str(), e.outcome.as_str()))
        .collect();
    for expected in [
        ("profile.save", "rehearsal", "ok"),
        ("secret.set", "rehearsal", "ok"),
        ("secret.set", "rehearsal", "InvalidInput"),
        ("key.validate", "rehearsal", "ok"),
        ("profile.select", "rehearsal", "ok"),
        ("setting.correlation_window", "", "ok"),
        ("profile.select", SB, "ok"),
        ("namespace.create", SB, "ok"),
        ("namespace.create", SB, "InvalidInput"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    // Newest first.
    assert_eq!(entries[0].action, "namespace.create");
    assert_eq!(entries[0].status, AuditOutcome::Error);
    assert!(entries
        .windows(2)
        .all(|w| (w[0].at_ms, w[0].seq) > (w[1].at_ms, w[1].seq)));
    // A key change says which key, never its value.
    let key = entries
        .iter()
        .find(|e| e.action == "secret.set" && e.outcome == "ok")
        .unwrap();
    assert!(
        key.params["kind"].is_string(),
        "the kind of key: {:?}",
        key.params
    );
    assert!(!entries.iter().any(|e| e.status == AuditOutcome::Started));
    // The action filter's choices are the actions recorded.
    let page = f.ops.audit_entries(&all()).await.unwrap();
    assert!(page.actions.contains(&"secret.set".to_owned()));
    assert!(page.actions.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn filters_work_together_and_the_total_counts_every_match() {
    let f = fixture().await;
    a_session(&f).await;
    let everything = every_entry(&f.ops).await;
    let check = |filter: AuditFilter, keep: &dyn Fn(&AuditRow) -> bool| {
        let want: Vec<i64> = everything
            .iter()
            .filter(|e| keep(e))
            .map(|e| e.seq)
            .collect();
        let ops = &f.ops;
        async move {
            let page = ops.audit_entries(&filter).await.unwrap();
            let got: Vec<i64> = page.entries.iter().map(|e| e.seq).collect();
            assert_eq!(got, want, "{filter:?}");
            assert_eq!(page.total as usize, want.len(), "{filter:?}");
            want.len()
        }
    };
    // One profile; the app-wide entries; an action family; errors; a time range.
    let n = check(
        AuditFilter {
            profile_id: Some("rehearsal".into()),
            ..all()
        },
        &|e| e.profile_id == "rehearsal",
    )
    .await;
    assert!(n >= 5);
    check(
        AuditFilter {
            profile_id: Some(String::new()),
            ..all()
        },
        &|e| e.profile_id.is_empty(),
    )
    .await;
    check(
        AuditFilter {
            action: Some("secret".into()),
            ..all()
        },
        &|e| e.action.starts_with("secret."),
    )
    .await;
    check(
        AuditFilter {
            outcome: Some(AuditOutcome::Error),
            ..all()
        },
        &|e| e.outcome != "ok",
    )
    .await;
    check(
        AuditFilter {
            since_ms: Some(T0 + MINUTE),
            until_ms: Some(T0 + 2 * MINUTE),
            ..all()
        },
        &|e| e.at_ms == T0 + MINUTE,
    )
    .await;
    // All together: the refused key of the rehearsal profile, in its minute.
    let n = check(
        AuditFilter {
            since_ms: Some(T0 + MINUTE),
            until_ms: Some(T0 + 2 * MINUTE),
            profile_id: Some("rehearsal".into()),
            action: Some("secret.".into()),
            outcome: Some(AuditOutcome::Error),
            text: Some("spaces".into()),
            limit: None,
            offset: None,
            exact_count: None,
            after: None,
        },
        &|e| e.action == "secret.set" && e.outcome == "InvalidInput",
    )
    .await;
    assert_eq!(n, 1);

    // Text finds a target, in any case; a page is a page of the total.
    let found = f
        .ops
        .audit_entries(&AuditFilter {
            text: Some("AUDIT-TRAIL".into()),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.entries[0].target, "dotdo-audit-trail");
    let page = f
        .ops
        .audit_entries(&AuditFilter {
            limit: Some(3),
            offset: Some(2),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(page.total as usize, everything.len());
    let want: Vec<i64> = everything[2..5].iter().map(|e| e.seq).collect();
    assert_eq!(page.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), want);
}

#[tokio::test]
async fn exports_hold_every_matching_entry_and_no_key() {
    let f = fixture().await;
    let deploy_key = a_session(&f).await;
    let everything = every_entry(&f.ops).await;

    // CSV: a header, then one record per entry, newest first, times in RFC 3339.
    let csv_text = f.ops.audit_csv(&all()).await.unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "seq",
            "time",
            "actor",
            "profile",
            "action",
            "target",
            "outcome",
            "durationMs",
            "message",
            "params"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), everything.len(), "every entry, not a page");
    for (r, e) in records.iter().zip(&everything) {
        assert_eq!(r[0].parse::<i64>().unwrap(), e.seq);
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(&r[1])
                .unwrap()
                .timestamp_millis(),
            e.at_ms
        );
        assert_eq!(&r[4], e.action);
        // Parameters as compact JSON, the same object.
        let params: serde_json::Value = serde_json::from_str(&r[9]).unwrap();
        assert_eq!(params, e.params);
        assert!(!r[9].contains('\n'));
    }
    // The export itself is recorded, once made (so it is not in its own file).
    let newest = &every_entry(&f.ops).await[0];
    assert_eq!(
        (
            newest.action.as_str(),
            newest.target.as_str(),
            newest.outcome.as_str()
        ),
        ("audit.export", "csv", "ok")
    );
    assert!(!csv_text.contains("audit.export"));

    // JSON of a filter: exactly the entries it selects, all of them.
    let filter = AuditFilter {
        profile_id: Some("rehearsal".into()),
        limit: Some(1),
        ..all()
    };
    let json_text = f.ops.audit_json(&filter).await.unwrap();
    let items: Vec<serde_json::Value> = serde_json::from_str(&json_text).unwrap();
    let want: Vec<i64> = everything
        .iter()
        .filter(|e| e.profile_id == "rehearsal")
        .map(|e| e.seq)
        .collect();
    assert!(want.len() > 1);
    assert_eq!(
        items
            .iter()
            .map(|i| i["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        want
    );
    assert!(items[0]["time"].as_str().unwrap().ends_with('Z'));
    assert!(items.iter().any(|i| i["action"] == "secret.set"));

    // Neither key is anywhere: not in the exports, the list, or the database's files.
    let listed = serde_json::to_string(&f.ops.audit_entries(&all()).await.unwrap()).unwrap();
    for secret in [TOKEN, deploy_key.as_str()] {
        assert!(!csv_text.contains(secret), "{secret} in the CSV");
        assert!(!json_text.contains(secret), "{secret} in the JSON");
        assert!(!listed.contains(secret), "{secret} in the list");
    }
    f.ops.shutdown().await;
    for entry in std::fs::read_dir(f.dir.path().join("app")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [TOKEN, deploy_key.as_str()] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn runbook_steps_checks_skips_and_notes_are_audited_without_keys() {
    let f = fixture().await;
    let key = f.sandbox.discovery().deploy_key.clone();
    let run = f
        .ops
        .start_run(SB, "monitoring", std::collections::BTreeMap::new(), false)
        .await
        .unwrap();
    let id = run.summary.id.clone();
    f.ops
        .run_step(&id, 0, switchyard_ops::StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    let d = f.ops.run_detail(&id).await.unwrap();
    let with_checks = d
        .steps
        .iter()
        .find(|s| !s.checks.is_empty() && s.blocker.is_none())
        .expect("the monitoring runbook has a step with checks");
    f.ops
        .set_check(&id, with_checks.index, 0, true)
        .await
        .unwrap();
    let last = d.steps.len() as u32 - 1;
    f.ops
        .skip_step(&id, last, "not needed tonight")
        .await
        .unwrap();
    f.ops
        .add_run_note(&id, Some(0), &format!("tried the key {key} by hand"))
        .await
        .unwrap();

    let entries = every_entry(&f.ops).await;
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{action} in {entries:#?}"))
    };
    let step = find("runbook.step");
    assert_eq!(step.outcome, "ok");
    assert_eq!(step.target, "monitoring");
    assert_eq!(step.params["run"], id.as_str());
    assert_eq!(step.params["step"], 1);
    let check = find("runbook.check");
    assert_eq!(check.params["checked"], true);
    assert_eq!(check.params["step"], with_checks.index + 1);
    assert_eq!(find("runbook.skip").params["reason"], "not needed tonight");
    let note = find("runbook.note");
    assert!(
        note.params["note"].as_str().unwrap().contains("***"),
        "{:?}",
        note.params
    );
    assert!(!entries.iter().any(|e| e.status == AuditOutcome::Started));
    // The key typed into the note is in no entry and no export.
    let json = f.ops.audit_json(&all()).await.unwrap();
    let csv = f.ops.audit_csv(&all()).await.unwrap();
    for text in [json, csv] {
        assert!(text.contains("runbook.note"));
        assert!(!text.contains(&key), "a key in the audit export");
    }
}
