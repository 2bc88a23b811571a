//! Project folders, and which paths the window may have used. The webview asks, the shell
//! decides paths: a path the window sends — a service folder whose `test` and `build` scripts
//! run, a bundle that is read and uploaded, a folder a template writes into, the workerd binary
//! the sandbox executes, the folder a runbook's shell step runs in — is used only when the
//! operator chose it in the OS's chooser (opened by the shell in this run of the app; the shell
//! calls [`Ops::remember_chosen_path`]) or it lies inside a project folder: one listed in
//! Settings → Deploys (added from the chooser only) or in the `SWITCHYARD_PROJECTS` environment
//! variable (folders separated by `:`, as `PATH`). Anything else — a path typed or pasted, or sent
//! by a script in the page — is refused before anything touches it, with what to do.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use switchyard_core::AppError;

use crate::Ops;

/// What a path is used for, which decides how it is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathUse {
    /// A file or folder that must exist (read, or its scripts run).
    Existing,
    /// A folder that may not exist yet (a template writes it): its nearest existing parent
    /// decides.
    NewFolder,
}

#[derive(Debug)]
struct Grant {
    path: PathBuf,
    /// A chosen folder grants what is inside it; a chosen file only itself.
    tree: bool,
}

/// The paths this run of the app may use.
#[derive(Debug, Default)]
pub(crate) struct PathGrants {
    chosen: Mutex<Vec<Grant>>,
    from_env: Vec<PathBuf>,
}

/// The most chooser picks remembered (the oldest go first).
const CHOSEN_MAX: usize = 256;

impl PathGrants {
    /// The grants with `SWITCHYARD_PROJECTS` read once (missing folders are ignored).
    pub fn from_env() -> Self {
        let from_env = std::env::var_os("SWITCHYARD_PROJECTS")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter_map(|p| std::fs::canonicalize(p).ok())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        PathGrants {
            chosen: Mutex::new(Vec::new()),
            from_env,
        }
    }

    /// Remember what the operator chose in the OS's chooser.
    pub fn remember(&self, path: &Path, is_folder: bool) {
        let Ok(path) = std::fs::canonicalize(path) else {
            return;
        };
        let mut chosen = self.chosen.lock().unwrap_or_else(|e| e.into_inner());
        chosen.retain(|g| g.path != path);
        if chosen.len() >= CHOSEN_MAX {
            chosen.remove(0);
        }
        chosen.push(Grant {
            path,
            tree: is_folder,
        });
    }

    /// Refuses `value` (the window's `field`) unless it was chosen in the chooser or lies inside
    /// one of `projects` (the listed project folders) or `SWITCHYARD_PROJECTS`. A path that does
    /// not exist is let through for [`PathUse::Existing`]: nothing there can run or be read, and the
    /// engine says it is missing in its own words.
    pub fn check(
        &self,
        field: &str,
        value: &str,
        projects: &[String],
        how: PathUse,
    ) -> Result<(), AppError> {
        let path = Path::new(value);
        if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
            return Err(refuse(
                field,
                value,
                "is not an absolute path without `..` in it",
            ));
        }
        let resolved = match how {
            PathUse::Existing => match std::fs::canonicalize(path) {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
            PathUse::NewFolder => resolve_new(path),
        };
        let inside = |root: &Path| resolved.starts_with(root);
        let chosen = self.chosen.lock().unwrap_or_else(|e| e.into_inner());
        let granted = chosen.iter().any(|g| {
            if g.tree {
                inside(&g.path)
            } else {
                resolved == g.path
            }
        }) || self.from_env.iter().any(|p| inside(p))
            || projects
                .iter()
                .filter_map(|p| std::fs::canonicalize(p).ok())
                .any(|p| inside(&p));
        if granted {
            Ok(())
        } else {
            Err(refuse(
                field,
                value,
                "was not chosen with Browse… and is not inside a project folder",
            ))
        }
    }
}

/// The folder a new path would be: its nearest existing ancestor resolved (links followed),
/// with the rest appended.
fn resolve_new(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn refuse(field: &str, value: &str, problem: &str) -> AppError {
    AppError::invalid_input(format!(
        "{field}: {value} {problem}. Switchyard runs scripts, reads bundles and writes new services only where you chose with Browse… (your system's file chooser) or inside a project folder listed in Settings → Deploys. Choose it with Browse…, or add the folder that holds it there."
    ))
}

/// The setting holding the list (JSON array of absolute paths).
pub const PROJECT_FOLDERS_SETTING: &str = "paths.project_folders";
/// The most project folders kept.
pub const PROJECT_FOLDERS_MAX: usize = 32;

impl Ops {
    /// The project folders, in the order they were added.
    pub async fn project_folders(&self) -> Vec<String> {
        match self.store.setting(PROJECT_FOLDERS_SETTING).await {
            Ok(Some(v)) => serde_json::from_str::<Vec<String>>(&v).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Adds a folder the operator chose in the OS's chooser (the shell opens it). The folder
    /// must exist; it is kept as its canonical path. Adding one already listed changes nothing.
    pub async fn add_project_folder(&self, folder: &Path) -> Result<Vec<String>, AppError> {
        let shown = folder.display().to_string();
        self.audited(
            "",
            "setting.project_folder_add",
            &shown,
            serde_json::json!({ "folder": shown }),
            async {
                let canonical = std::fs::canonicalize(folder)
                    .ok()
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| {
                        AppError::invalid_input(format!(
                            "{} is not a folder on this computer. Choose an existing folder.",
                            folder.display()
                        ))
                    })?;
                let canonical = canonical.display().to_string();
                let mut list = self.project_folders().await;
                if !list.contains(&canonical) {
                    if list.len() >= PROJECT_FOLDERS_MAX {
                        return Err(AppError::invalid_input(format!(
                            "At most {PROJECT_FOLDERS_MAX} project folders can be listed. Remove one you no longer use first."
                        )));
                    }
                    list.push(canonical);
                    self.save_project_folders(&list).await?;
                }
                Ok(list)
            },
        )
        .await
    }

    /// Removes a folder from the list (its files are not touched). Removing one not listed
    /// changes nothing.
    pub async fn remove_project_folder(&self, folder: &str) -> Result<Vec<String>, AppError> {
        self.audited(
            "",
            "setting.project_folder_remove",
            folder,
            serde_json::json!({ "folder": folder }),
            async {
                let mut list = self.project_folders().await;
                let before = list.len();
                list.retain(|f| f != folder);
                if list.len() != before {
                    self.save_project_folders(&list).await?;
                }
                Ok(list)
            },
        )
        .await
    }

    /// Remember a path the operator chose in the OS's chooser (the shell calls this with what the
    /// chooser answered, never with a path from the window).
    pub fn remember_chosen_path(&self, path: &Path, is_folder: bool) {
        self.path_grants.remember(path, is_folder);
    }

    /// Refuses `value` (the window's `field`) unless it was chosen in the chooser or lies inside
    /// a project folder; see the module's header.
    pub async fn allow_path(&self, field: &str, value: &str, how: PathUse) -> Result<(), AppError> {
        let projects = self.project_folders().await;
        self.path_grants.check(field, value, &projects, how)
    }

    async fn save_project_folders(&self, list: &[String]) -> Result<(), AppError> {
        let json = serde_json::to_string(list)
            .map_err(|e| AppError::internal(&format!("Could not save the project folders: {e}")))?;
        self.store.set_setting(PROJECT_FOLDERS_SETTING, &json).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use switchyard_secrets::MemoryStore;

    #[tokio::test]
    async fn project_folders_are_kept_canonical_once_and_survive_a_restart() {
        let data = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let repo = work.path().join("repo");
        std::fs::create_dir_all(repo.join("workers")).unwrap();
        let canonical = std::fs::canonicalize(&repo).unwrap().display().to_string();
        {
            let ops = Ops::open(
                data.path(),
                Arc::new(MemoryStore::new()),
                Arc::new(switchyard_core::SystemClock),
            )
            .await
            .unwrap();
            assert!(ops.project_folders().await.is_empty());
            // A path with `..` in it is kept as the folder it names.
            let roundabout = repo.join("workers").join("..");
            assert_eq!(
                ops.add_project_folder(&roundabout).await.unwrap(),
                vec![canonical.clone()]
            );
            assert_eq!(
                ops.add_project_folder(&repo).await.unwrap(),
                vec![canonical.clone()]
            );
            let err = ops
                .add_project_folder(&work.path().join("missing"))
                .await
                .unwrap_err();
            assert!(err.message.contains("is not a folder"), "{}", err.message);
            ops.shutdown().await;
            drop(ops);
        }
        let ops = Ops::open(
            data.path(),
            Arc::new(MemoryStore::new()),
            Arc::new(switchyard_core::SystemClock),
        )
        .await
        .unwrap();
        assert_eq!(ops.project_folders().await, vec![canonical.clone()]);
        assert!(ops
            .remove_project_folder(&canonical)
            .await
            .unwrap()
            .is_empty());
        assert!(ops.project_folders().await.is_empty());
    }
}

#[cfg(test)]
mod grant_tests {
    use super::*;

    fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let other = dir.path().join("other");
        std::fs::create_dir_all(repo.join("workers/gateway")).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("bundle.js"), "export default {}").unwrap();
        (dir, repo, other)
    }

    fn s(p: &Path) -> String {
        p.display().to_string()
    }

    #[test]
    fn a_typed_path_is_refused_with_what_to_do_and_a_chosen_one_is_used() {
        let (_d, repo, other) = dirs();
        let grants = PathGrants::default();
        let folder = repo.join("workers/gateway");
        let err = grants
            .check("request.source.path", &s(&folder), &[], PathUse::Existing)
            .unwrap_err();
        assert_eq!(err.code, switchyard_core::ErrorCode::InvalidInput);
        assert!(
            err.message.starts_with("request.source.path: "),
            "{}",
            err.message
        );
        assert!(err.message.contains("Browse…"), "{}", err.message);
        assert!(
            err.message.contains("Settings → Deploys"),
            "{}",
            err.message
        );

        // Chosen in the chooser: that folder and what is inside it.
        grants.remember(&repo, true);
        grants
            .check("request.source.path", &s(&folder), &[], PathUse::Existing)
            .unwrap();
        // A chosen file grants only itself, not its neighbours.
        let bundle = other.join("bundle.js");
        std::fs::write(other.join("secret.js"), "x").unwrap();
        grants.remember(&bundle, false);
        grants
            .check("bundlePath", &s(&bundle), &[], PathUse::Existing)
            .unwrap();
        assert!(grants
            .check(
                "bundlePath",
                &s(&other.join("secret.js")),
                &[],
                PathUse::Existing
            )
            .is_err());
    }

    #[test]
    fn a_listed_project_grants_its_folders_but_no_way_out_of_it() {
        let (dir, repo, other) = dirs();
        let grants = PathGrants::default();
        let projects = vec![s(&repo)];
        grants
            .check(
                "folder",
                &s(&repo.join("workers/gateway")),
                &projects,
                PathUse::Existing,
            )
            .unwrap();
        // `..` is refused outright, and a link inside the project that points out of it is
        // judged by where it leads.
        let climb = format!("{}/workers/../../other/bundle.js", s(&repo));
        assert!(grants
            .check("bundlePath", &climb, &projects, PathUse::Existing)
            .is_err());
        std::os::unix::fs::symlink(&other, repo.join("escape")).unwrap();
        let through_link = s(&repo.join("escape/bundle.js"));
        assert!(grants
            .check("bundlePath", &through_link, &projects, PathUse::Existing)
            .is_err());
        // A relative path is refused.
        assert!(grants
            .check("folder", "workers/gateway", &projects, PathUse::Existing)
            .is_err());
        // A new folder is judged by its nearest existing parent.
        grants
            .check(
                "folder",
                &s(&repo.join("workers/new-svc/deeper")),
                &projects,
                PathUse::NewFolder,
            )
            .unwrap();
        assert!(grants
            .check(
                "folder",
                &s(&dir.path().join("elsewhere/new")),
                &projects,
                PathUse::NewFolder
            )
            .is_err());
    }
}
