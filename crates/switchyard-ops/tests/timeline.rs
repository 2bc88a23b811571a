//! The incident timeline through the façade, against a real sandbox (real HTTP), a real SQLite
//! file and an in-memory keychain: what a window holds and in which order, pins and notes kept
//! across a reopening, and the Markdown export (pinned first, no key).

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_core::SANDBOX_PROFILE_ID;
use switchyard_ops::{
    Ops, StepRunRequest, Timeline, TimelineKind, TimelineNoteRequest, TimelineTone, TimelineWindow,
};
use switchyard_sandbox::Sandbox;
use switchyard_secrets::MemoryStore;
use switchyard_store::{AuditEntry, HealthSample, HealthState};

mod support;
use support::{start_sandbox, TestClock};

const SB: &str = SANDBOX_PROFILE_ID;
const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

async fn open(dir: &std::path::Path, sandbox: &Sandbox, clock: Arc<TestClock>) -> Ops {
    let ops = Ops::open(&dir.join("app"), Arc::new(MemoryStore::new()), clock)
        .await
        .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    ops
}

fn sample(at_ms: i64, state: HealthState, http_status: Option<i64>) -> HealthSample {
    HealthSample {
        target: "gateway".into(),
        at_ms,
        state,
        http_status,
        latency_ms: Some(12),
    }
}

/// A runbook of three steps: a manual one (skipped), a local command that fails after printing
/// fifteen lines, and a last manual one.
const RUNBOOK: &str = "# Timeline drill\n\nPractise.\n\n## Look around {#look}\n\n- [ ] Looked\n\n## Run the check {#check}\n\n```switchyard command folder=? timeout=10\nfor i in $(seq 1 15); do echo \"check line $i\"; done; exit 3\n```\n\n## Wrap up {#wrap}\n\n- [ ] Done\n";

fn window(since: i64, until: i64) -> TimelineWindow {
    TimelineWindow {
        profile_id: SB.into(),
        run_id: None,
        since_ms: Some(since),
        until_ms: Some(until),
        ..Default::default()
    }
}

fn kinds(t: &Timeline) -> Vec<(TimelineKind, String)> {
    t.items.iter().map(|i| (i.kind, i.title.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_merges_every_source_in_time_order_and_keeps_pins_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let key = sandbox.discovery().deploy_key.clone();
    let clock = TestClock::at(T0);
    let ops = open(dir.path(), &sandbox, clock.clone()).await;

    // 1 min: a namespace is created (the audit log).
    clock.set(T0 + MINUTE);
    ops.create_namespace(SB, "dotdo-timeline").await.unwrap();
    // 2–5 min: gateway goes down (503) and comes back (the health samples); the samples in
    // between that change nothing are not items.
    ops.store()
        .insert_health_samples(
            SB,
            &[
                sample(T0 + 2 * MINUTE, HealthState::Up, Some(200)),
                sample(T0 + 3 * MINUTE, HealthState::Down, Some(503)),
                sample(T0 + 4 * MINUTE, HealthState::Down, Some(503)),
                sample(T0 + 5 * MINUTE, HealthState::Up, Some(200)),
                sample(T0 + 5 * MINUTE + 30_000, HealthState::Up, Some(200)),
            ],
        )
        .await
        .unwrap();
    // 5.5 min: a rollout (another feature) records its steps in the audit log: shown as is.
    ops.store()
        .append_audit(&AuditEntry {
            at_ms: T0 + 5 * MINUTE + 45_000,
            actor: "ana".into(),
            profile_id: SB.into(),
            action: "rollout.shift".into(),
            target: "gateway/production".into(),
            params: serde_json::json!({ "percent": 25 }),
            outcome: "ok".into(),
            message: None,
            duration_ms: 40,
        })
        .await
        .unwrap();
    // 6–8 min: a runbook run: step 1 skipped with a reason, step 2 fails, a note on the run.
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("runbooks")).unwrap();
    std::fs::write(app.join("runbooks/drill.md"), RUNBOOK).unwrap();
    clock.set(T0 + 6 * MINUTE);
    let run = ops
        .start_run(SB, "user/drill", BTreeMap::new(), false)
        .await
        .unwrap();
    let run_id = run.summary.id.clone();
    clock.set(T0 + 6 * MINUTE + 10_000);
    ops.skip_step(&run_id, 0, "nothing to look at in a drill")
        .await
        .unwrap();
    clock.set(T0 + 7 * MINUTE);
    ops.remember_chosen_path(dir.path(), true);
    let values: BTreeMap<String, String> =
        BTreeMap::from([("folder".into(), dir.path().display().to_string())]);
    let plan = ops.step_plan(&run_id, 1, values.clone()).await.unwrap();
    let _ = ops
        .run_step(
            &run_id,
            1,
            StepRunRequest {
                values,
                confirmation: plan.confirmation.phrase.clone(),
                basis: None,
            },
            |_| {},
        )
        .await;
    clock.set(T0 + 7 * MINUTE + 30_000);
    ops.add_run_note(&run_id, None, "gateway looked fine after the restart")
        .await
        .unwrap();
    // 8 min: a note on the timeline, with the sandbox's Deploy API key pasted in it.
    clock.set(T0 + 8 * MINUTE);
    let note = ops
        .add_timeline_note(&TimelineNoteRequest {
            profile_id: SB.into(),
            at_ms: None,
            text: format!("Paged the on-call; tried the key {key} by hand"),
            run_id: Some(run_id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(note.kind, TimelineKind::Note);
    assert!(!note.title.contains(&key), "{}", note.title);
    clock.set(T0 + 9 * MINUTE);

    let t = ops.timeline(&window(T0, T0 + 10 * MINUTE)).await.unwrap();
    let got = kinds(&t);
    let position = |kind: TimelineKind, text: &str| {
        got.iter()
            .position(|(k, title)| *k == kind && title.contains(text))
            .unwrap_or_else(|| panic!("no {kind:?} item with {text:?} in {got:#?}"))
    };
    let created = position(TimelineKind::Audit, "namespace.create dotdo-timeline");
    let down = position(TimelineKind::Health, "gateway went down (503)");
    let up = position(TimelineKind::Health, "gateway came back up");
    let rollout = position(TimelineKind::Audit, "rollout.shift gateway/production");
    let started = position(TimelineKind::Step, "started");
    let skipped = position(TimelineKind::Step, "skipped: nothing to look at in a drill");
    let failed = position(TimelineKind::Step, "failed");
    let run_note = position(TimelineKind::Step, "gateway looked fine");
    let timeline_note = position(TimelineKind::Note, "Paged the on-call");
    let order = [
        created,
        down,
        up,
        rollout,
        started,
        skipped,
        failed,
        run_note,
        timeline_note,
    ];
    let mut sorted = order;
    sorted.sort_unstable();
    assert_eq!(order, sorted, "in time order: {got:#?}");
    let times: Vec<i64> = t.items.iter().map(|i| i.at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // Transitions only: one down, one up, however many samples.
    assert_eq!(
        t.items
            .iter()
            .filter(|i| i.kind == TimelineKind::Health)
            .count(),
        2
    );
    let item = |i: usize| &t.items[i];
    assert_eq!(item(down).id, format!("health:gateway:{}", T0 + 3 * MINUTE));
    assert_eq!(item(down).tone, TimelineTone::Error);
    assert_eq!(item(up).detail.as_deref(), Some("Down for 2 min."));
    assert!(item(created).id.starts_with("audit:"));
    assert_eq!(item(created).outcome.as_deref(), Some("ok"));
    assert_eq!(item(skipped).outcome.as_deref(), Some("skipped"));
    assert_eq!(item(skipped).tone, TimelineTone::Warning);
    assert!(item(skipped).id.starts_with(&format!("step:{run_id}:")));
    // The failed step quotes its last ten lines of output.
    let tail = item(failed).output_tail.as_deref().expect("an output tail");
    assert!(tail.contains("check line 15"), "{tail}");
    assert!(!tail.contains("check line 5\n"), "{tail}");
    assert!(tail.lines().count() <= 10, "{tail}");
    // The run's own audit entries are its events, not repeated (the command it ran stays: it
    // says what ran); the note's entry neither.
    for own in [
        "runbook.start",
        "runbook.skip",
        "runbook.step",
        "runbook.note",
    ] {
        assert!(
            !got.iter()
                .any(|(k, title)| *k == TimelineKind::Audit && title.starts_with(own)),
            "{own}: {got:#?}"
        );
    }
    position(TimelineKind::Audit, "runbook.command");
    assert!(!got.iter().any(|(_, title)| title.starts_with("timeline.")));
    assert_eq!(t.not_shown, 0);
    assert!(t.pinned.is_empty());

    // Pins and notes are kept: pin the outage and the note, then open the folder again.
    let down_id = item(down).id.clone();
    let note_id = note.id.clone();
    ops.pin_timeline_item(SB, &note_id, true).await.unwrap();
    ops.pin_timeline_item(SB, &down_id, true).await.unwrap();
    ops.pin_timeline_item(SB, &item(rollout).id, true)
        .await
        .unwrap();
    ops.pin_timeline_item(SB, &item(rollout).id, false)
        .await
        .unwrap();
    let bad = ops
        .pin_timeline_item(SB, "nonsense", true)
        .await
        .unwrap_err();
    assert_eq!(bad.code, switchyard_core::ErrorCode::InvalidInput);
    ops.shutdown().await;
    drop(ops);
    let ops = open(dir.path(), &sandbox, clock.clone()).await;
    let again = ops.timeline(&window(T0, T0 + 10 * MINUTE)).await.unwrap();
    assert_eq!(again.pinned, [down_id.clone(), note_id.clone()]);
    let pinned: Vec<&str> = again
        .items
        .iter()
        .filter(|i| i.pinned)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(pinned, [down_id.as_str(), note_id.as_str()]);
    assert!(again.items.iter().any(|i| i.id == note_id));

    // The run's window: from a quarter of an hour before it started, to now (it is open).
    let by_run = ops
        .timeline(&TimelineWindow {
            profile_id: String::new(),
            run_id: Some(run_id.clone()),
            since_ms: None,
            until_ms: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_run.since_ms, T0 + 6 * MINUTE - 15 * MINUTE);
    assert_eq!(
        by_run.run.as_ref().map(|r| r.id.as_str()),
        Some(run_id.as_str())
    );
    assert_eq!(by_run.items.len(), again.items.len());

    // Markdown: pinned first, then everything; no key anywhere.
    let md = ops
        .timeline_markdown(&window(T0, T0 + 10 * MINUTE))
        .await
        .unwrap();
    assert!(!md.contains(&key), "{md}");
    let (head, rest) = md.split_once("## Pinned").expect("a Pinned section");
    assert!(
        head.starts_with("# Incident timeline: Local sandbox"),
        "{head}"
    );
    let (pinned_part, full) = rest.split_once("## Timeline").expect("then the timeline");
    let outage = pinned_part.find("gateway went down (503)").expect("{md}");
    let paged = pinned_part.find("Paged the on-call").expect("{md}");
    assert!(outage < paged, "pinned in time order: {pinned_part}");
    assert!(!pinned_part.contains("namespace.create"), "{pinned_part}");
    for text in [
        "`namespace.create` dotdo-timeline",
        "gateway came back up",
        "`rollout.shift` gateway/production",
        "skipped: nothing to look at in a drill",
        "check line 15",
        "Paged the on-call",
    ] {
        assert!(full.contains(text), "{text} in {full}");
    }
    ops.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_window_says_so_and_a_backwards_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let clock = TestClock::at(T0);
    let ops = open(dir.path(), &sandbox, clock).await;
    let t = ops
        .timeline(&window(T0 - 10 * MINUTE, T0 - 5 * MINUTE))
        .await
        .unwrap();
    assert!(t.items.is_empty());
    let md = ops
        .timeline_markdown(&window(T0 - 10 * MINUTE, T0 - 5 * MINUTE))
        .await
        .unwrap();
    assert!(
        md.contains("Nothing was recorded on this profile in this window"),
        "{md}"
    );
    assert!(md.contains("Nothing is pinned in this window."), "{md}");
    let e = ops.timeline(&window(T0, T0 - MINUTE)).await.unwrap_err();
    assert_eq!(e.code, switchyard_core::ErrorCode::InvalidInput);
    let e = ops
        .add_timeline_note(&TimelineNoteRequest {
            profile_id: SB.into(),
            at_ms: None,
            text: "   ".into(),
            run_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, switchyard_core::ErrorCode::InvalidInput);
    ops.shutdown().await;
}

/// The Timeline tab reads a window a page at a time, newest first: the pages, each before the
/// first item of the one read before, add up to the whole window in its order — items of one
/// millisecond (actions, deployments, health changes, notes) split across pages included — and
/// each page says how many items come before it. The Markdown (the incident report's timeline)
/// still holds every item, whatever page was asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_the_newest_items_add_up_to_the_whole_window() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let clock = TestClock::at(T0 + 90 * MINUTE);
    let ops = open(dir.path(), &sandbox, clock).await;
    let at = |minute: i64| T0 + minute * MINUTE;
    // Three actions a minute for 20 minutes; every fifth is the timeline's own (not an item).
    for k in 0..60_i64 {
        ops.store()
            .append_audit(&AuditEntry {
                at_ms: at(k / 3),
                actor: "ana".into(),
                profile_id: SB.into(),
                action: if k % 5 == 4 {
                    "timeline.note"
                } else {
                    "deploy.run"
                }
                .into(),
                target: format!("svc-{k}"),
                params: serde_json::json!({ "n": k }),
                outcome: "ok".into(),
                message: None,
                duration_ms: 5,
            })
            .await
            .unwrap();
    }
    // A deployment every minute, at the same millisecond as that minute's actions.
    let deployments: Vec<switchyard_core::Deployment> = (0..20_i64)
        .map(|m| switchyard_core::Deployment {
            id: format!("deploy_page_{m:03}"),
            service: "gateway".into(),
            environment: switchyard_core::Environment::Production,
            tier: None,
            version: None,
            namespace: None,
            status: switchyard_core::DeploymentStatus::Deployed,
            timestamp: chrono::DateTime::from_timestamp_millis(at(m))
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            url: None,
            version_tag: Some(format!("v1.0.{m}")),
            metadata: switchyard_core::DeploymentMetadata {
                commit: format!("{m:040x}"),
                branch: "main".into(),
                author: "bo@example.com".into(),
                version: None,
            },
        })
        .collect();
    ops.store()
        .upsert_deployments(SB, &deployments, 0)
        .await
        .unwrap();
    // Gateway goes down and up every other minute; a note every fourth minute.
    let samples: Vec<HealthSample> = (0..20_i64)
        .step_by(2)
        .map(|m| {
            let down = m % 4 == 0;
            let state = if down {
                HealthState::Down
            } else {
                HealthState::Up
            };
            sample(at(m), state, Some(if down { 503 } else { 200 }))
        })
        .collect();
    ops.store()
        .insert_health_samples(SB, &samples)
        .await
        .unwrap();
    for m in (0..20_i64).step_by(4) {
        ops.add_timeline_note(&TimelineNoteRequest {
            profile_id: SB.into(),
            at_ms: Some(at(m)),
            text: format!("note at minute {m}"),
            run_id: None,
        })
        .await
        .unwrap();
    }

    let whole = window(at(-1), at(30));
    let all = ops.timeline(&whole).await.unwrap();
    let all_ids: Vec<&str> = all.items.iter().map(|i| i.id.as_str()).collect();
    // 48 actions, 20 deployments, 10 health changes, 5 notes.
    assert_eq!(all_ids.len(), 83, "{all_ids:?}");
    assert_eq!((all.earlier, all.not_shown), (0, 0));

    for limit in [7_u32, 10, 200] {
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut before = None;
        loop {
            let page = ops
                .timeline(&TimelineWindow {
                    limit: Some(limit),
                    before: before.clone(),
                    ..whole.clone()
                })
                .await
                .unwrap();
            let shown: usize = pages.iter().map(Vec::len).sum::<usize>() + page.items.len();
            assert!(page.items.len() <= limit as usize);
            assert_eq!(
                page.earlier as usize,
                all_ids.len() - shown,
                "limit {limit}"
            );
            assert!(page.earlier_exact);
            pages.push(page.items.iter().map(|i| i.id.clone()).collect());
            let Some(first) = page.items.first() else {
                break;
            };
            if page.earlier == 0 {
                break;
            }
            before = Some(switchyard_ops::TimelineCursor {
                at_ms: first.at_ms,
                id: first.id.clone(),
            });
        }
        let joined: Vec<String> = pages.into_iter().rev().flatten().collect();
        assert_eq!(joined, all_ids, "limit {limit}");
    }

    // The Markdown of a page's window is the whole window's.
    let md = ops
        .timeline_markdown(&TimelineWindow {
            limit: Some(7),
            ..whole.clone()
        })
        .await
        .unwrap();
    assert_eq!(md, ops.timeline_markdown(&whole).await.unwrap());
    assert!(md.contains("svc-0") && md.contains("svc-58"), "{md}");
    ops.shutdown().await;
}

/// Every byte of the files under `dir`, each file's path with it.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// A key saved for other hosts than its profile names now (the profile was edited to point
/// elsewhere) is not sent anywhere, but it is still the operator's key: a note it is pasted in
/// is stored without it, and neither the timeline nor its Markdown shows it.
#[tokio::test]
async fn a_key_saved_for_other_hosts_is_kept_out_of_notes_and_the_timeline() {
    use switchyard_core::{Environment, Profile};
    use switchyard_secrets::{Secret, SecretKind};
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let clock = TestClock::at(T0);
    let ops = open(dir.path(), &sandbox, clock.clone()).await;
    let mut profile = Profile::for_environment("elsewhere", "Elsewhere", Environment::Staging);
    ops.save_profile(profile.clone()).await.unwrap();
    // No shape the redaction would guess at (not `sk_…`, not 32 random characters).
    let key = "orchard-velvet-hunter-42";
    ops.set_secret(
        "elsewhere",
        SecretKind::DeployApiKey,
        Secret::new(key.to_owned()),
    )
    .await
    .unwrap();
    profile.deploy_api_url = "http://127.0.0.2:9/deploy-api".into();
    ops.save_profile(profile).await.unwrap();
    let kept = ops.profile_secrets("elsewhere").await.unwrap();
    assert_eq!(kept.detached.len(), 1, "{kept:?}");

    let note = ops
        .add_timeline_note(&TimelineNoteRequest {
            profile_id: "elsewhere".into(),
            at_ms: None,
            text: format!("tried {key} by hand"),
            run_id: None,
        })
        .await
        .unwrap();
    assert_eq!(note.title, "tried *** by hand");
    let window = TimelineWindow {
        profile_id: "elsewhere".into(),
        since_ms: Some(T0 - MINUTE),
        until_ms: Some(T0 + MINUTE),
        ..Default::default()
    };
    let t = ops.timeline(&window).await.unwrap();
    let shown = serde_json::to_string(&t).unwrap();
    assert!(shown.contains("tried *** by hand"), "{shown}");
    assert!(!shown.contains(key), "{shown}");
    let md = ops.timeline_markdown(&window).await.unwrap();
    assert!(md.contains("tried *** by hand"), "{md}");
    assert!(!md.contains(key), "{md}");
    ops.shutdown().await;
    // Nothing the app wrote holds it (the database, its log, the app's other files).
    for (path, bytes) in files_under(&dir.path().join("app")) {
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "{} holds the key",
            path.display()
        );
    }
}
