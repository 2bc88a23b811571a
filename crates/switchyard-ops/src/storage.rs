//! What the window is told when `switchyard.db` was found damaged at start and replaced: the
//! file, where it went, what was read back into the new database and what was not, and what
//! that means for the operator — said as it is (the bundle files stay in `bundles/` but which
//! deployment used which is in the database; the Deploy API serves only its recent history).

use switchyard_store::{StoreRecovery, TableSalvage};

/// The one-time notice of a database replaced at start (in `app_info` until the app restarts,
/// and in the audit log as `storage.recovered`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StorageNotice {
    /// The damaged file, e.g. `~/.local/share/switchyard/switchyard.db`.
    pub damaged_file: String,
    /// Where it is now (moved, never deleted), with its `-wal` and `-shm` beside it.
    pub moved_to: String,
    /// The opening sentence: what was damaged, how it showed, where it went.
    pub summary: String,
    /// What was read back into the new database, one line per kind of data.
    pub recovered: Vec<String>,
    /// What could not be read back, each with what it means and what to do.
    pub lost: Vec<String>,
    /// What happens next (history synced again…).
    pub next: Vec<String>,
}

impl StorageNotice {
    /// The whole notice as text (the log, the audit entry).
    pub fn text(&self) -> String {
        let mut out = self.summary.clone();
        if !self.recovered.is_empty() {
            out.push_str(" Recovered: ");
            out.push_str(&self.recovered.join("; "));
            out.push('.');
        }
        if !self.lost.is_empty() {
            out.push_str(" Not recovered: ");
            out.push_str(&self.lost.join("; "));
            out.push('.');
        }
        for n in &self.next {
            out.push(' ');
            out.push_str(n);
        }
        out
    }
}

/// How a group of tables came through.
enum Outcome {
    /// Every row (`rows` of the group's main table).
    All(u64),
    /// Some rows could not be read; `rows` were.
    Part(u64),
    /// None could be read.
    None,
    /// The damaged file did not have these tables, or had no rows in them.
    Empty,
}

fn outcome(rec: &StoreRecovery, tables: &[&str]) -> Outcome {
    if rec.unreadable.is_some() {
        return Outcome::None;
    }
    // A table the damaged file did not have (it predates it) held nothing to lose.
    let found: Vec<&TableSalvage> = tables.iter().filter_map(|t| rec.table(t)).collect();
    let rows = found.first().map_or(0, |t| t.rows);
    let complete = found.iter().all(|t| t.complete);
    match (complete, rows) {
        (true, 0) => Outcome::Empty,
        (true, n) => Outcome::All(n),
        (false, 0) if found.iter().all(|t| t.rows == 0) => Outcome::None,
        (false, n) => Outcome::Part(n),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The notice for a recovery, naming `bundles_dir` where the archive's files stay.
pub(crate) fn notice(rec: &StoreRecovery, bundles_dir: &std::path::Path) -> StorageNotice {
    let damaged_file = rec.damaged_file.display().to_string();
    let moved_to = rec.moved_to.display().to_string();
    let with = if rec.moved_with.is_empty() {
        String::new()
    } else {
        " (with its -wal and -shm files)".to_owned()
    };
    let created = match &rec.unreadable {
        None => "A new database was created with everything that could still be read from it."
            .to_owned(),
        Some(why) => format!(
            "A new database was created; nothing at all could be read from the damaged one (SQLite: {why})."
        ),
    };
    let summary = format!(
        "Switchyard's database {damaged_file} was damaged ({}) and was moved to {moved_to}{with}; nothing was deleted. {created}",
        rec.reason
    );
    let mut recovered = Vec::new();
    let mut lost = Vec::new();
    let mut next = Vec::new();

    // (tables, what they are, one, many, what losing them means). When nothing could be read,
    // whether there were any runs, bundles, pins or journal entries is unknown: said so.
    let kept: [(&[&str], &str, &str, &str, String); 7] = [
        (
            &["profiles"],
            "profiles",
            "profile",
            "profiles",
            "add them again in Settings, or import them from a TOML export; their keys are still in the keychain".to_owned(),
        ),
        (
            &["app_settings"],
            "settings",
            "setting",
            "settings",
            "the selected profile, the health and deploy settings and the record of which hosts each stored key was saved for are back to their defaults: choose the settings again, and check each profile's URLs in Settings before using its keys (a key now goes to the hosts its profile names)".to_owned(),
        ),
        (
            &["runbook_runs", "runbook_steps", "runbook_checks", "runbook_events"],
            "runbook runs",
            "run",
            "runs",
            "their steps, outputs and incident reports are only in the moved file".to_owned(),
        ),
        (
            &["audit_log"],
            "audit log",
            "entry",
            "entries",
            "the actions recorded before today are only in the moved file".to_owned(),
        ),
        (
            &["bundles", "bundle_uses"],
            "bundle archive index",
            "bundle",
            "bundles",
            format!(
                "the bundle files are untouched in {}, but which deployment used which is lost, so versions deployed before today cannot be restored from the archive (a rollback through the Deploy API still works); retention leaves those files alone",
                bundles_dir.display()
            ),
        ),
        (
            &["deploy_pins"],
            "pins after a rollback",
            "pin",
            "pins",
            "services pinned by a rollback are no longer marked as pinned: check before deploying over them".to_owned(),
        ),
        (
            &["deploy_journal"],
            "deploy journal",
            "entry",
            "entries",
            "a deploy that was cut off before the damage can no longer be reconciled by the app: check the service's history".to_owned(),
        ),
    ];
    for (tables, what, one, many, meaning) in &kept {
        match outcome(rec, tables) {
            Outcome::All(n) => recovered.push(format!("{what} ({})", count(n, one, many))),
            Outcome::Part(n) => {
                recovered.push(format!(
                    "{what} (only {}: some could not be read)",
                    count(n, one, many)
                ));
                lost.push(format!("part of the {what}: {meaning}"));
            }
            Outcome::None
                if rec.unreadable.is_some()
                    && !matches!(*what, "profiles" | "settings" | "audit log") =>
            {
                lost.push(format!("the {what}, if there were any: {meaning}"))
            }
            Outcome::None => lost.push(format!("the {what}: {meaning}")),
            Outcome::Empty => {}
        }
    }

    // The caches: fetched again, but not all of it can be.
    match outcome(rec, &["deployments", "deployment_status_changes"]) {
        Outcome::All(n) => recovered.push(format!(
            "deployment history ({})",
            count(n, "record", "records")
        )),
        Outcome::Part(n) => {
            recovered.push(format!(
                "deployment history (only {}: some could not be read)",
                count(n, "record", "records")
            ));
            lost.push("part of the deployment history: what the Deploy API no longer serves (it keeps only its recent records) is only in the moved file".to_owned());
        }
        Outcome::None => lost.push("the deployment history cache: what the Deploy API no longer serves (it keeps only its recent records) is only in the moved file".to_owned()),
        Outcome::Empty => {}
    }
    match outcome(rec, &["health_samples", "health_buckets"]) {
        Outcome::All(_) | Outcome::Empty => {}
        Outcome::Part(_) => lost.push("part of the health history".to_owned()),
        Outcome::None => {
            lost.push("the health history: the charts start again from now".to_owned())
        }
    }
    next.push(
        "Deployment history will be synced again from the Deploy API at the next sync.".to_owned(),
    );
    StorageNotice {
        damaged_file,
        moved_to,
        summary,
        recovered,
        lost,
        next,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn table(name: &str, rows: u64, complete: bool) -> TableSalvage {
        TableSalvage {
            table: name.to_owned(),
            rows,
            complete,
        }
    }

    fn recovery(tables: Vec<TableSalvage>, unreadable: Option<&str>) -> StoreRecovery {
        StoreRecovery {
            damaged_file: PathBuf::from("/data/switchyard.db"),
            moved_to: PathBuf::from("/data/switchyard.db.corrupt-20261206T120000Z"),
            moved_with: vec![PathBuf::from(
                "/data/switchyard.db.corrupt-20261206T120000Z-wal",
            )],
            reason: "SQLite: database disk image is malformed".to_owned(),
            tables,
            unreadable: unreadable.map(str::to_owned),
        }
    }

    #[test]
    fn says_what_came_back_and_what_did_not_with_what_it_means() {
        let rec = recovery(
            vec![
                table("profiles", 0, false),
                table("app_settings", 7, true),
                table("runbook_runs", 3, true),
                table("runbook_steps", 20, true),
                table("runbook_checks", 4, true),
                table("runbook_events", 30, true),
                table("audit_log", 1, true),
                table("bundles", 5, true),
                table("bundle_uses", 2, false),
                table("deploy_pins", 0, true),
                table("deployments", 1200, false),
                table("deployment_status_changes", 3, true),
                table("health_buckets", 10, true),
                table("health_samples", 500, true),
            ],
            None,
        );
        let n = notice(&rec, Path::new("/data/bundles"));
        assert_eq!(n.damaged_file, "/data/switchyard.db");
        assert_eq!(
            n.summary,
            "Switchyard's database /data/switchyard.db was damaged (SQLite: database disk image is malformed) and was moved to /data/switchyard.db.corrupt-20261206T120000Z (with its -wal and -shm files); nothing was deleted. A new database was created with everything that could still be read from it."
        );
        assert_eq!(
            n.recovered,
            [
                "settings (7 settings)",
                "runbook runs (3 runs)",
                "audit log (1 entry)",
                "bundle archive index (only 5 bundles: some could not be read)",
                "deployment history (only 1200 records: some could not be read)",
            ]
        );
        assert_eq!(n.lost.len(), 3, "{:?}", n.lost);
        assert!(n.lost[0].starts_with("the profiles: add them again in Settings"));
        assert!(n.lost[1].starts_with(
            "part of the bundle archive index: the bundle files are untouched in /data/bundles"
        ));
        assert!(n.lost[2].contains("the Deploy API no longer serves"));
        // The deploy journal was not in the file (an older one): nothing said about it.
        assert!(!n.text().contains("journal"));
        assert_eq!(
            n.next,
            ["Deployment history will be synced again from the Deploy API at the next sync."]
        );
    }

    #[test]
    fn a_file_nothing_could_be_read_from_loses_everything_and_says_so() {
        let n = notice(
            &recovery(Vec::new(), Some("file is not a database")),
            Path::new("/data/bundles"),
        );
        assert!(n.recovered.is_empty());
        for what in [
            "the profiles",
            "the settings",
            "the runbook runs",
            "the audit log",
            "the bundle archive index",
            "the deployment history cache",
            "the health history",
        ] {
            assert!(
                n.lost.iter().any(|l| l.starts_with(what)),
                "{what}: {:?}",
                n.lost
            );
        }
        assert!(
            n.summary.ends_with("A new database was created; nothing at all could be read from the damaged one (SQLite: file is not a database)."),
            "{}",
            n.summary
        );
        assert!(n
            .lost
            .iter()
            .any(|l| l.starts_with("the pins after a rollback, if there were any: ")));
        assert_eq!(n.next.len(), 1);
    }
}
