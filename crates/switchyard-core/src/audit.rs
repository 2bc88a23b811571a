//! What the audit log is asked for: entries of a time range, a profile (or all of them), an
//! action or a family of actions, an outcome and a free text, newest first, a page at a time.
//! The store runs the query; the window and the exports send this same filter.

use serde::{Deserialize, Serialize};

/// How an audited action ended, as the filter and the window group the stored outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum AuditOutcome {
    /// It succeeded (stored `ok`).
    Ok,
    /// It failed: stored as the error code (`InvalidInput`, `Unreachable`…) or `failed`.
    Error,
    /// It is still running (stored `started`: written when the action starts).
    Started,
    /// The app stopped before it ended (stored `interrupted`): how it ended is unknown.
    Interrupted,
}

impl AuditOutcome {
    /// The outcome stored for a succeeded action.
    pub const OK: &'static str = "ok";
    /// The outcome stored while the action runs.
    pub const STARTED: &'static str = "started";
    /// The outcome stored for an action a stop of the app cut off.
    pub const INTERRUPTED: &'static str = "interrupted";

    /// The group of a stored outcome: anything but `ok`, `started` and `interrupted` is an error.
    pub fn of(stored: &str) -> AuditOutcome {
        match stored {
            Self::OK => AuditOutcome::Ok,
            Self::STARTED => AuditOutcome::Started,
            Self::INTERRUPTED => AuditOutcome::Interrupted,
            _ => AuditOutcome::Error,
        }
    }
}

/// Which audit entries to read. The empty filter is every entry of every profile, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct AuditFilter {
    /// Entries started at or after this time (epoch ms; a JS number represents it exactly).
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub since_ms: Option<i64>,
    /// Entries started before this time (epoch ms).
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub until_ms: Option<i64>,
    /// One profile's entries (`""`: the app-wide ones, such as settings); None: every profile.
    pub profile_id: Option<String>,
    /// An action or a family: `deploy.` is every action starting with it; `deploy` or
    /// `sandbox.fault` is that action and the ones under it (`deploy.apply`,
    /// `sandbox.fault.clear`).
    pub action: Option<String>,
    pub outcome: Option<AuditOutcome>,
    /// Free text, any case, found anywhere in the actor, action, target, parameters or message.
    pub text: Option<String>,
    /// At most this many entries; None: all of them.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Count every match (the Audit area's "Count exactly"); otherwise a page's count stops
    /// 2,000 entries past the page and says it is a lower bound.
    pub exact_count: Option<bool>,
    /// Keyset paging: the page starts just after this entry (the last of the page before, in
    /// the newest-first order), so a page deep down costs what the first does and entries
    /// written meanwhile do not shift it. `offset` then only says how many entries come before
    /// it (the count starts there); it skips none.
    pub after: Option<AuditCursor>,
}

/// Where an entry sits in the newest-first order: its time, then its number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AuditCursor {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub seq: i64,
}

impl AuditFilter {
    /// The action filter as the store applies it: `(exact, prefix)`. `exact` is None when only
    /// the prefix counts (the filter ends with a dot). Empty filters are None.
    pub fn action_match(&self) -> Option<(Option<String>, String)> {
        let action = self
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())?;
        Some(match action.strip_suffix('.') {
            Some(_) => (None, action.to_owned()),
            None => (Some(action.to_owned()), format!("{action}.")),
        })
    }

    /// The text to search for, trimmed; None when there is none.
    pub fn text_query(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_outcomes_are_grouped() {
        assert_eq!(AuditOutcome::of("ok"), AuditOutcome::Ok);
        assert_eq!(AuditOutcome::of("started"), AuditOutcome::Started);
        assert_eq!(AuditOutcome::of("interrupted"), AuditOutcome::Interrupted);
        assert_eq!(AuditOutcome::of("InvalidInput"), AuditOutcome::Error);
        assert_eq!(AuditOutcome::of("failed"), AuditOutcome::Error);
    }

    #[test]
    fn an_action_filter_is_a_family_or_a_prefix() {
        let f = |a: &str| AuditFilter {
            action: Some(a.into()),
            ..Default::default()
        };
        assert_eq!(
            f("deploy").action_match(),
            Some((Some("deploy".into()), "deploy.".into()))
        );
        assert_eq!(f("deploy.").action_match(), Some((None, "deploy.".into())));
        assert_eq!(f("  ").action_match(), None);
        assert_eq!(AuditFilter::default().action_match(), None);
    }

    #[test]
    fn the_filter_reads_the_windows_camel_case() {
        let f: AuditFilter =
            serde_json::from_str(r#"{"sinceMs": 5, "profileId": "", "outcome": "interrupted"}"#)
                .unwrap();
        assert_eq!(f.since_ms, Some(5));
        assert_eq!(f.profile_id.as_deref(), Some(""));
        assert_eq!(f.outcome, Some(AuditOutcome::Interrupted));
    }
}
