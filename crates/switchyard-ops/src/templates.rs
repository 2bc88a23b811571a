//! New services from templates: the runbook's three kinds of service (domain, integration, ai —
//! "Creating a New Service") as built-in templates, and the user's own templates in
//! `<data dir>/templates/<name>/`, written into a folder the operator picks.
//!
//! What a template makes is what the runbook's "Manual Setup" describes: `src/index.ts` with an
//! RPC interface (a `WorkerEntrypoint` class) and an HTTP interface (Hono) answering `/health`;
//! `wrangler.jsonc` with the service's name, `src/index.ts` as its entry, the dispatch namespace of
//! the chosen environment under the profile and the chosen service bindings (`DB_SERVICE` → `db`);
//! `package.json` with the scripts `dev`, `build`, `deploy`, `test` and `typecheck`; and `tests/`
//! with a first test. `dist/index.js` is not pre-built: the build makes it.
//!
//! **Decision: the generated service is TypeScript with Hono, as the runbook says, and building it
//! needs `npm install` (or `pnpm install`) with the network once.** Its `build` script is the
//! runbook's `wrangler deploy --dry-run --outdir dist`; wrangler, Hono, vitest and TypeScript come
//! from npm. Shipping plain JavaScript that builds with no dependencies would have made the
//! generated service unlike every other service of the monorepo, for the sake of an offline test.
//! So the tests here check what can be checked offline: every file is written with the service
//! name, kind, namespace and bindings in place, `wrangler.jsonc` parses (JSONC) and lists the
//! namespace and bindings (the `services` entries the deploy reads), and `package.json` parses
//! with the scripts the deploy runs (`test`, `build`). The generated tests run in Node
//! (`vitest run`), with a small stand-in for `cloudflare:workers` (`tests/stubs/`), so they need
//! no Workers runtime; nothing here was built or run with npm (the sandbox machine is offline).
//!
//! **A template** is a folder: `template.toml` (`name`, `kind` — `domain`, `integration` or `ai` —,
//! `description`, and an optional `[bindings]` table of suggested bindings) and the files to write,
//! at least `package.json` and `wrangler.jsonc`. The built-ins are this crate's `templates/common/`
//! files plus `templates/<kind>/` (embedded with `include_str!`), and are loaded and checked
//! exactly as a user's template is. In the files, these placeholders are replaced:
//!
//! | placeholder            | becomes                                                        |
//! |------------------------|----------------------------------------------------------------|
//! | `{{service}}`          | the service name (`my-service`)                                |
//! | `{{class_name}}`       | its RPC class name (`MyService`)                               |
//! | `{{kind}}`             | `domain`, `integration` or `ai`                                |
//! | `{{namespace}}`        | the dispatch namespace (`dotdo-production`)                    |
//! | `{{environment}}`      | the environment (`production`)                                 |
//! | `{{description}}`      | the description, as typed (one line)                           |
//! | `{{description_json}}` | the description as a JSON string literal, quotes included      |
//! | `{{bindings_jsonc}}`   | the `services` entries, `{ "binding": "DB_SERVICE", "service": "db" }`, one a line |
//! | `{{env_interface}}`    | the `interface Env` members, `DB_SERVICE: Fetcher`, one a line |
//!
//! A placeholder alone on its line expands to lines indented like it (none: the line goes). A
//! user template is checked when the list is read, as user runbooks are: a mistake (the manifest,
//! an unknown placeholder, a `wrangler.jsonc` that would not parse or names another namespace…)
//! is listed with its file and line, and the template cannot be used until it is fixed; it never
//! hides another template.
//!
//! **Writing** never overwrites anything: the target folder must not exist, or be empty. The
//! files are written into a temporary sibling folder, which is then renamed to the target, so
//! either the whole service is there or nothing is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use switchyard_core::{validate, AppError, Environment, ErrorCode};

use crate::Ops;

mod render;
use render::*;

mod load;
use load::*;

/// The prefix of user template ids: `user/<folder name>`, so a user's never replaces a built-in.
pub const USER_TEMPLATE_PREFIX: &str = "user/";
/// The most files a template may hold.
pub const TEMPLATE_FILES_MAX: usize = 200;
/// The largest file a template may hold (bytes).
pub const TEMPLATE_FILE_MAX_BYTES: u64 = 1024 * 1024;
/// The most service bindings a new service may be made with.
pub const NEW_SERVICE_BINDINGS_MAX: usize = 64;
/// The longest description (characters).
pub const DESCRIPTION_MAX: usize = 300;

const MANIFEST: &str = "template.toml";
/// Folders a template must not ship: what is installed or built, and version control.
const NOT_IN_A_TEMPLATE: &[&str] = &["node_modules", "dist", ".git", ".wrangler"];

/// The kinds of service of the runbook ("Creating a New Service": `--type domain|integration|ai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ServiceKind {
    Domain,
    Integration,
    Ai,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Domain => "domain",
            ServiceKind::Integration => "integration",
            ServiceKind::Ai => "ai",
        }
    }
}

/// Where a template comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TemplateOrigin {
    BuiltIn,
    /// A folder of `<data dir>/templates`.
    #[serde(rename_all = "camelCase")]
    User {
        path: String,
    },
}

/// A template that loaded and can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServiceTemplate {
    /// `domain`, `integration`, `ai` for the built-ins; `user/<folder>` for the user's.
    pub id: String,
    pub name: String,
    pub kind: ServiceKind,
    pub description: String,
    pub origin: TemplateOrigin,
    /// The bindings the form suggests (binding name → service).
    pub bindings: BTreeMap<String, String>,
    /// The files it writes, relative to the new folder, sorted.
    pub files: Vec<String>,
}

/// A mistake in a template: the file (relative to the template's folder) and the line (1-based;
/// 0 when it is about the whole file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{} line {}: {}", self.file, self.line, self.message)
        }
    }
}

/// A template folder that did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateProblem {
    /// The id it would have had.
    pub template_id: String,
    /// Its folder (a path for user templates).
    pub folder: String,
    pub errors: Vec<TemplateError>,
}

/// Every template that loaded, every one that did not, and the folder the user's are read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateCatalog {
    pub templates: Vec<ServiceTemplate>,
    pub problems: Vec<TemplateProblem>,
    /// `<data dir>/templates`: add a folder there to add a template.
    pub folder: String,
}

/// Make a new service from a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NewService {
    /// The profile whose namespace the service is made for.
    pub profile_id: String,
    pub template_id: String,
    /// The service name (lowercase letters, digits and '-', starting with a letter).
    pub service: String,
    /// The environment whose dispatch namespace goes in wrangler.jsonc.
    pub environment: Environment,
    /// The new service's folder (absolute): it must not exist yet, or be empty.
    pub folder: String,
    /// Service bindings: binding name (`DB_SERVICE`) → service (`db`).
    pub bindings: BTreeMap<String, String>,
    /// One line saying what the service does.
    pub description: Option<String>,
}

/// The service that was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CreatedService {
    pub service: String,
    pub template_id: String,
    pub kind: ServiceKind,
    /// The folder written (as given).
    pub folder: String,
    pub environment: Environment,
    pub namespace: String,
    pub bindings: BTreeMap<String, String>,
    /// The files written, relative to the folder, sorted.
    pub files: Vec<String>,
    /// The profile's service list has this service (the Deploy API takes only services it knows).
    pub in_profile: bool,
    /// What to do next, in order.
    pub next_steps: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The built-ins.

macro_rules! embedded {
    ($dir:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $dir, "/", $path)))),*]
    };
}

/// The files every built-in shares.
const COMMON: &[(&str, &str)] = embedded!("common":
    "package.json",
    "wrangler.jsonc",
    "tsconfig.json",
    "vitest.config.ts",
    "tests/health.test.ts",
    "tests/stubs/cloudflare-workers.ts",
    "README.md",
    ".gitignore",
);

/// Each built-in: its id, and its own files (over the common ones).
const BUILTIN: &[(&str, &[(&str, &str)])] = &[
    (
        "domain",
        embedded!("domain": "template.toml", "src/index.ts"),
    ),
    (
        "integration",
        embedded!("integration": "template.toml", "src/index.ts"),
    ),
    ("ai", embedded!("ai": "template.toml", "src/index.ts")),
];

/// A template's files as read: relative path → content (or why it cannot be used).
type Files = BTreeMap<String, Result<String, String>>;

fn builtin_files(own: &[(&str, &str)]) -> Files {
    COMMON
        .iter()
        .chain(own)
        .map(|(p, c)| ((*p).to_owned(), Ok((*c).to_owned())))
        .collect()
}

/// A loaded template and its files.
#[derive(Debug, Clone)]
struct Loaded {
    template: ServiceTemplate,
    files: BTreeMap<String, String>,
}

/// The values of the placeholders.
#[derive(Debug, Clone)]
struct Values {
    service: String,
    kind: ServiceKind,
    namespace: String,
    environment: Environment,
    description: String,
    bindings: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// What is in `dir` (a few names), for the refusal.
fn some_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|e| {
            e.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn not_empty(target: &Path, service: &str, names: &[String]) -> AppError {
    let shown: Vec<_> = names.iter().take(5).cloned().collect();
    let more = if names.len() > 5 { ", …" } else { "" };
    AppError::new(
        ErrorCode::Conflict,
        format!(
            "{} already exists and is not empty (it holds {}{more}): nothing was written. Choose a new folder, for example {}, or an empty one.",
            target.display(),
            shown.join(", "),
            target.join(service).display()
        ),
    )
}

/// Write `files` as the folder `target`, whole or not at all, never over anything.
fn write_folder(
    target: &Path,
    service: &str,
    files: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    let shown = target.display().to_string();
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => {
            let names = some_entries(target);
            if !names.is_empty() {
                return Err(not_empty(target, service, &names));
            }
        }
        Ok(_) => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("{shown} already exists and is not a folder: nothing was written. Choose a new folder."),
            ))
        }
        Err(_) => {}
    }
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(AppError::invalid_input(format!(
            "folder: {shown} cannot hold a new service; choose a folder inside another one."
        )));
    };
    if !parent.is_dir() {
        return Err(AppError::invalid_input(format!(
            "folder: {} (where {} would be made) does not exist. Choose a folder that exists, or create it first.",
            parent.display(),
            name.to_string_lossy()
        )));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = parent.join(format!(
        ".{}.switchyard-new-{}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir(&tmp)?;
        for (rel, content) in files {
            let path = rel.split('/').fold(tmp.clone(), |p, part| p.join(part));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, content)?;
        }
        match std::fs::rename(&tmp, target) {
            Ok(()) => Ok(()),
            // Some systems do not rename over an empty folder: take it away first (this fails,
            // safely, if anything was put in it meanwhile).
            Err(_) if target.is_dir() && some_entries(target).is_empty() => {
                std::fs::remove_dir(target)?;
                std::fs::rename(&tmp, target)
            }
            Err(e) => Err(e),
        }
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_dir_all(&tmp);
        if target.exists() && !some_entries(target).is_empty() {
            return Err(not_empty(target, service, &some_entries(target)));
        }
        if switchyard_core::error::is_disk_full(&e) {
            return Err(AppError::disk_full(
                "Writing the new service",
                &parent.display().to_string(),
            ));
        }
        return Err(AppError::invalid_input(format!(
            "Could not write {shown} ({e}); nothing was written. Choose a folder you can write to, then try again."
        )));
    }
    Ok(())
}

/// Check a request (every field, named) before anything happens.
fn check_request(req: &NewService) -> Result<(), AppError> {
    validate::profile_id("profileId", &req.profile_id)?;
    validate::line("templateId", &req.template_id, validate::LABEL_MAX)?;
    validate::service("service", &req.service)?;
    validate::path("folder", &req.folder)?;
    if req.folder.trim().is_empty() {
        return Err(AppError::invalid_input(
            "folder: choose the folder for the new service (for example …/workers/my-service).",
        ));
    }
    if !Path::new(&req.folder).is_absolute() {
        return Err(AppError::invalid_input(format!(
            "folder: {} is not a full path — choose the folder with the chooser, or paste its whole path.",
            validate::shown(&req.folder)
        )));
    }
    validate::count("bindings", req.bindings.len(), NEW_SERVICE_BINDINGS_MAX)?;
    for (name, service) in &req.bindings {
        if let Some(p) = binding_name_problem(name) {
            return Err(AppError::invalid_input(format!("bindings: {p}.")));
        }
        validate::service(&format!("bindings.{name}"), service)?;
    }
    validate::opt(req.description.as_deref(), |d| {
        validate::line("description", d, DESCRIPTION_MAX)
    })
}

impl Ops {
    /// The folder user templates are read from (`<data dir>/templates`).
    pub fn templates_folder(&self) -> PathBuf {
        self.data_dir.join("templates")
    }

    /// Every template: the built-ins, then the user's folders that load. A folder with mistakes
    /// is listed in `problems` with each mistake's file and line; it never hides another.
    pub async fn service_templates(&self) -> Result<TemplateCatalog, AppError> {
        let dir = self.templates_folder();
        let folder = dir.display().to_string();
        let (loaded, problems) = tokio::task::spawn_blocking(move || catalog(&dir))
            .await
            .map_err(|_| AppError::internal("Reading the templates folder"))?;
        Ok(TemplateCatalog {
            templates: loaded.into_iter().map(|l| l.template).collect(),
            problems,
            folder,
        })
    }

    /// Make a new service from a template in `req.folder` (which must not exist, or be empty):
    /// all its files or none. Recorded in the audit log.
    pub async fn create_service(&self, req: NewService) -> Result<CreatedService, AppError> {
        check_request(&req)?;
        let profile = self.for_profile(&req.profile_id).await?;
        let namespace = profile.dispatch_namespace(req.environment);
        if namespace.contains(['"', '\\']) {
            return Err(AppError::invalid_input(format!(
                "The namespace {} of the profile {} cannot go in wrangler.jsonc; fix it in Settings.",
                validate::shown(&namespace),
                profile.name
            )));
        }
        let params = serde_json::json!({
            "template": req.template_id,
            "environment": req.environment,
            "namespace": namespace,
            "folder": req.folder,
            "bindings": req.bindings,
        });
        self.audited(&profile.id, "service.create", &req.service, params, async {
            let dir = self.templates_folder();
            let template_id = req.template_id.clone();
            let (loaded, problems) = tokio::task::spawn_blocking(move || catalog(&dir))
                .await
                .map_err(|_| AppError::internal("Reading the templates folder"))?;
            let Some(template) = loaded.into_iter().find(|l| l.template.id == template_id) else {
                if let Some(p) = problems.iter().find(|p| p.template_id == template_id) {
                    let first = p.errors.first().map(ToString::to_string).unwrap_or_default();
                    return Err(AppError::invalid_input(format!(
                        "The template {} has {} mistake(s) and cannot be used until they are fixed (first: {first}).",
                        p.folder,
                        p.errors.len()
                    )));
                }
                return Err(AppError::new(
                    ErrorCode::NotFound,
                    format!("There is no template \"{template_id}\". Pick one from the list."),
                ));
            };
            let kind = template.template.kind;
            let description = req
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map_or_else(
                    || format!("The {} service ({} kind).", req.service, kind.as_str()),
                    str::to_owned,
                );
            let values = Values {
                service: req.service.clone(),
                kind,
                namespace: namespace.clone(),
                environment: req.environment,
                description,
                bindings: req.bindings.clone(),
            };
            let rendered: BTreeMap<String, String> = template
                .files
                .iter()
                .map(|(path, text)| (path.clone(), render(text, &values)))
                .collect();
            let target = PathBuf::from(&req.folder);
            let service = req.service.clone();
            let files = rendered.clone();
            tokio::task::spawn_blocking(move || write_folder(&target, &service, &files))
                .await
                .map_err(|_| AppError::internal("Writing the new service"))??;
            let in_profile = profile.services.iter().any(|s| s == &req.service);
            let mut next_steps = vec![
                format!("Install its dependencies once, with the network: cd {} && pnpm install (or npm install).", req.folder),
                "Run its tests: pnpm test. The build (pnpm build) makes dist/index.js with wrangler.".to_owned(),
            ];
            if !in_profile {
                next_steps.push(format!(
                    "Add {} to the service list of the profile {} (Settings → Profiles): the Deploy API takes only services it knows.",
                    req.service, profile.name
                ));
            }
            next_steps.push(format!(
                "Deploy it from the Deploy area (Service folder: {}).",
                req.folder
            ));
            Ok(CreatedService {
                service: req.service.clone(),
                template_id: req.template_id.clone(),
                kind,
                folder: req.folder.clone(),
                environment: req.environment,
                namespace: namespace.clone(),
                bindings: req.bindings.clone(),
                files: rendered.into_keys().collect(),
                in_profile,
                next_steps,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads() {
        let (loaded, problems) = catalog(Path::new("/nonexistent/templates"));
        assert!(problems.is_empty(), "{problems:#?}");
        let ids: Vec<_> = loaded.iter().map(|l| l.template.id.as_str()).collect();
        assert_eq!(ids, ["domain", "integration", "ai"]);
    }

    #[test]
    fn placeholders_alone_on_a_line_expand_to_indented_lines_or_none() {
        let mut v = Values::sample(ServiceKind::Domain);
        v.bindings = BTreeMap::from([
            ("AUTH_SERVICE".into(), "auth".into()),
            ("DB_SERVICE".into(), "db".into()),
        ]);
        let text = "[\n    {{bindings_jsonc}}\n]\nname {{service}} {{class_name}} {{x}} {{ y }}\n";
        assert_eq!(
            render(text, &v),
            "[\n    { \"binding\": \"AUTH_SERVICE\", \"service\": \"auth\" },\n    { \"binding\": \"DB_SERVICE\", \"service\": \"db\" }\n]\nname example-service ExampleService {{x}} {{ y }}\n"
        );
        v.bindings.clear();
        assert_eq!(render("a\n  {{env_interface}}\nb", &v), "a\nb");
        assert_eq!(
            render("{{description_json}}", &v),
            "\"An \\\"example\\\" service.\""
        );
    }
}
