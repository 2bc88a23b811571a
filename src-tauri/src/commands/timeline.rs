use switchyard_core::validate::{self, Check, EPOCH_MS, PAGE_LIMIT};
use switchyard_core::AppError;
use switchyard_ops::{
    Timeline, TimelineItem, TimelineNoteRequest, TimelineWindow, TIMELINE_NOTE_MAX,
};
use tauri::{AppHandle, State};

use crate::commands::files::{file_stem, save_with_dialog, SaveDialog};
use crate::commands::input::Checked;
use crate::state::AppState;

/// The longest item id (`step:<run id>:<seq>`, `health:<target>:<ms>`…).
const ITEM_ID_MAX: usize = 256;

impl Checked for TimelineWindow {
    fn check(&self, field: &str) -> Check {
        // With a run, the run names the profile: the profile may be empty.
        if self.run_id.is_none() || !self.profile_id.is_empty() {
            validate::profile_id(&format!("{field}.profileId"), &self.profile_id)?;
        }
        validate::opt(self.run_id.as_deref(), |r| {
            validate::id(&format!("{field}.runId"), r)
        })?;
        validate::opt(self.since_ms.as_ref(), |&ms| {
            validate::range(&format!("{field}.sinceMs"), ms, EPOCH_MS)
        })?;
        validate::opt(self.until_ms.as_ref(), |&ms| {
            validate::range(&format!("{field}.untilMs"), ms, EPOCH_MS)
        })?;
        validate::opt(self.limit.as_ref(), |&n| {
            validate::range(&format!("{field}.limit"), n, PAGE_LIMIT)
        })?;
        validate::opt(self.before.as_ref(), |c| {
            validate::range(&format!("{field}.before.atMs"), c.at_ms, EPOCH_MS)?;
            validate::key(&format!("{field}.before.id"), &c.id, ITEM_ID_MAX)
        })
    }
}

impl Checked for TimelineNoteRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&format!("{field}.profileId"), &self.profile_id)?;
        validate::opt(self.at_ms.as_ref(), |&ms| {
            validate::range(&format!("{field}.atMs"), ms, EPOCH_MS)
        })?;
        validate::required_text(&format!("{field}.text"), &self.text, TIMELINE_NOTE_MAX)?;
        validate::opt(self.run_id.as_deref(), |r| {
            validate::id(&format!("{field}.runId"), r)
        })
    }
}

/// A profile's incident timeline over a window (a time range, or a runbook run): the audit log,
/// health changes, deployments, runbook steps, notes and log excerpts around failures, oldest
/// first, pins marked.
#[tauri::command]
#[specta::specta]
pub async fn timeline(
    state: State<'_, AppState>,
    window: TimelineWindow,
) -> Result<Timeline, AppError> {
    window.check("window")?;
    state.ops.timeline(&window).await
}

/// Pin or unpin an item of a profile's timeline (kept across restarts).
#[tauri::command]
#[specta::specta]
pub async fn pin_timeline_item(
    state: State<'_, AppState>,
    profile_id: String,
    item_id: String,
    pinned: bool,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::key("itemId", &item_id, ITEM_ID_MAX)?;
    state
        .ops
        .pin_timeline_item(&profile_id, &item_id, pinned)
        .await
}

/// Write a note on a profile's timeline (now, unless a time is given), signed by the OS user.
#[tauri::command]
#[specta::specta]
pub async fn add_timeline_note(
    state: State<'_, AppState>,
    note: TimelineNoteRequest,
) -> Result<TimelineItem, AppError> {
    note.check("note")?;
    state.ops.add_timeline_note(&note).await
}

/// The timeline of a window as Markdown (pinned items first, keys replaced by ***): the window
/// copies it to the clipboard.
#[tauri::command]
#[specta::specta]
pub async fn timeline_markdown(
    state: State<'_, AppState>,
    window: TimelineWindow,
) -> Result<String, AppError> {
    window.check("window")?;
    state.ops.timeline_markdown(&window).await
}

/// Save the timeline of a window as Markdown where the OS's save dialog says; the window never
/// sends a path. The path written, or None when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_timeline_markdown(
    app: AppHandle,
    state: State<'_, AppState>,
    window: TimelineWindow,
) -> Result<Option<String>, AppError> {
    window.check("window")?;
    let text = state.ops.timeline_markdown(&window).await?;
    let scope = window.run_id.as_deref().unwrap_or(&window.profile_id);
    let dialog = SaveDialog {
        title: "Save the incident timeline",
        file_name: format!("{}.md", file_stem(&format!("timeline-{scope}"), "timeline")),
        filter_name: "Markdown",
        extension: "md",
    };
    save_with_dialog(&app, dialog, text.as_bytes()).await
}
