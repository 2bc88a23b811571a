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

use switchyard_core::{validate, AppError, Environment, ErrorCode, Profile};

use crate::Ops;

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

/// Every template: the built-ins, then the user's folders (sorted by name).
fn catalog(user_dir: &Path) -> (Vec<Loaded>, Vec<TemplateProblem>) {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    let mut add = |id: String, origin: TemplateOrigin, folder: String, files: Files| match load(
        &id, origin, files,
    ) {
        Ok(l) => loaded.push(l),
        Err(errors) => problems.push(TemplateProblem {
            template_id: id,
            folder,
            errors,
        }),
    };
    for (id, own) in BUILTIN {
        add(
            (*id).to_owned(),
            TemplateOrigin::BuiltIn,
            format!("built-in {id}"),
            builtin_files(own),
        );
    }
    for (name, path, files) in read_user_templates(user_dir) {
        let folder = path.display().to_string();
        add(
            format!("{USER_TEMPLATE_PREFIX}{name}"),
            TemplateOrigin::User {
                path: folder.clone(),
            },
            folder,
            files,
        );
    }
    (loaded, problems)
}

/// The folders of `dir` (each a template), with their files; nothing when `dir` is missing.
fn read_user_templates(dir: &Path) -> Vec<(String, PathBuf, Files)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let files = read_tree(&path);
            (name, path, files)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The files under `root`, by relative path ('/'-separated). What cannot be used (a symlink, a
/// large or binary file, a folder a template must not ship, too many files) is kept as an `Err`
/// naming the reason, so the template's problems list it.
fn read_tree(root: &Path) -> Files {
    let mut files = Files::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                let at = if rel.is_empty() { ".".to_owned() } else { rel };
                files.insert(at, Err(format!("the folder could not be read ({e})")));
                continue;
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if files.len() > TEMPLATE_FILES_MAX {
                files.insert(
                    path_rel,
                    Err(format!(
                        "the template holds more than {TEMPLATE_FILES_MAX} files"
                    )),
                );
                return files;
            }
            if kind.is_symlink() {
                files.insert(
                    path_rel,
                    Err("is a symbolic link: put the file itself in the template".into()),
                );
            } else if kind.is_dir() {
                if NOT_IN_A_TEMPLATE.contains(&name.as_str()) {
                    files.insert(
                        format!("{path_rel}/"),
                        Err(format!(
                            "a template does not ship {name}/ (it is installed, built or kept by git); remove it"
                        )),
                    );
                } else {
                    stack.push((entry.path(), path_rel));
                }
            } else {
                let content = match entry.metadata() {
                    Ok(m) if m.len() > TEMPLATE_FILE_MAX_BYTES => Err(format!(
                        "is larger than {} KiB",
                        TEMPLATE_FILE_MAX_BYTES / 1024
                    )),
                    _ => match std::fs::read(entry.path()) {
                        Ok(bytes) => {
                            String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())
                        }
                        Err(e) => Err(format!("could not be read ({e})")),
                    },
                };
                files.insert(path_rel, content);
            }
        }
    }
    files
}

// ---------------------------------------------------------------------------------------------
// Loading and checking a template.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    kind: ServiceKind,
    description: String,
    #[serde(default)]
    bindings: BTreeMap<String, String>,
}

fn error(file: &str, line: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        file: file.to_owned(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        message: message.into(),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.matches('\n').count() + 1)
}

/// The 1-based line where `needle` first appears in `text` (0: nowhere).
fn line_with(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(0, |at| line_of(text, at))
}

/// A binding name: a JavaScript identifier (it becomes a member of `interface Env`).
fn binding_name_problem(name: &str) -> Option<String> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!ok).then(|| {
        format!(
            "{} is not a binding name — use letters, digits and '_', starting with a letter (for example DB_SERVICE)",
            validate::shown(name)
        )
    })
}

/// Check a template and load it: every mistake found, or the template.
fn load(id: &str, origin: TemplateOrigin, files: Files) -> Result<Loaded, Vec<TemplateError>> {
    let mut errors = Vec::new();
    let mut good = BTreeMap::new();
    for (path, content) in files {
        match content {
            Ok(text) => {
                good.insert(path, text);
            }
            Err(why) => errors.push(error(&path, 0, why)),
        }
    }
    let manifest = match good.remove(MANIFEST) {
        None => {
            errors.push(error(
                MANIFEST,
                0,
                "is missing: a template needs template.toml with name, kind and description",
            ));
            None
        }
        Some(text) => match toml::from_str::<Manifest>(&text) {
            Ok(m) => {
                check_manifest(&m, &text, &mut errors);
                Some(m)
            }
            Err(e) => {
                let line = e.span().map_or(0, |s| line_of(&text, s.start));
                errors.push(error(MANIFEST, line, e.message().trim().to_owned()));
                None
            }
        },
    };
    for required in ["package.json", "wrangler.jsonc"] {
        if !good.contains_key(required) {
            errors.push(error(
                required,
                0,
                "is missing: a service folder needs package.json and wrangler.jsonc",
            ));
        }
    }
    for (path, text) in &good {
        for (line, name) in placeholders(text) {
            if !PLACEHOLDERS.contains(&name) {
                errors.push(error(
                    path,
                    line,
                    format!(
                        "unknown placeholder {{{{{name}}}}} — use one of {}",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{{{p}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    // What it makes, with sample values (one binding: a line stays a line, so the lines of a
    // mistake are the template's).
    if let Some(m) = &manifest {
        let sample = Values::sample(m.kind);
        check_rendered(&good, &sample, &mut errors);
    }
    match manifest {
        Some(m) if errors.is_empty() => Ok(Loaded {
            template: ServiceTemplate {
                id: id.to_owned(),
                name: m.name,
                kind: m.kind,
                description: m.description,
                origin,
                bindings: m.bindings,
                files: good.keys().cloned().collect(),
            },
            files: good,
        }),
        _ => Err(errors),
    }
}

fn check_manifest(m: &Manifest, text: &str, errors: &mut Vec<TemplateError>) {
    if let Err(e) = validate::line("name", &m.name, validate::LABEL_MAX)
        .and_then(|()| validate::required_text("name", m.name.trim(), validate::LABEL_MAX))
    {
        errors.push(error(MANIFEST, line_with(text, "name"), e.message));
    }
    if let Err(e) = validate::text("description", &m.description, validate::TEXT_MAX) {
        errors.push(error(MANIFEST, line_with(text, "description"), e.message));
    }
    if m.bindings.len() > NEW_SERVICE_BINDINGS_MAX {
        errors.push(error(
            MANIFEST,
            line_with(text, "[bindings]"),
            format!("more than {NEW_SERVICE_BINDINGS_MAX} bindings"),
        ));
    }
    for (name, service) in &m.bindings {
        let line = line_with(text, name);
        if let Some(p) = binding_name_problem(name) {
            errors.push(error(MANIFEST, line, format!("bindings: {p}")));
        }
        if let Err(e) = validate::service(&format!("bindings.{name}"), service) {
            errors.push(error(MANIFEST, line, e.message));
        }
    }
}

/// Render the files with `sample` and check that package.json and wrangler.jsonc come out right.
fn check_rendered(
    files: &BTreeMap<String, String>,
    sample: &Values,
    errors: &mut Vec<TemplateError>,
) {
    if let Some(text) = files.get("package.json") {
        let rendered = render(text, sample);
        match serde_json::from_str::<serde_json::Value>(&rendered) {
            Err(e) => errors.push(error(
                "package.json",
                e.line(),
                format!("would not be valid JSON: {e}"),
            )),
            Ok(v) => {
                let scripts = v.get("scripts").and_then(|s| s.as_object());
                let missing: Vec<_> = ["build", "test"]
                    .into_iter()
                    .filter(|s| !scripts.is_some_and(|m| m.get(*s).is_some_and(|c| c.is_string())))
                    .collect();
                if !missing.is_empty() {
                    errors.push(error(
                        "package.json",
                        line_with(text, "\"scripts\""),
                        format!(
                            "needs the scripts {} (the deploy runs them; the build makes dist/index.js)",
                            missing.join(" and ")
                        ),
                    ));
                }
            }
        }
    }
    if let Some(text) = files.get("wrangler.jsonc") {
        let rendered = render(text, sample);
        match parse_jsonc(&rendered) {
            Err((line, message)) => errors.push(error(
                "wrangler.jsonc",
                line,
                format!("would not be valid JSONC: {message}"),
            )),
            Ok(v) => {
                let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                if field("name").as_deref() != Some(sample.service.as_str()) {
                    errors.push(error(
                        "wrangler.jsonc",
                        line_with(text, "\"name\""),
                        "\"name\" must be \"{{service}}\" (the service name chosen)",
                    ));
                }
                if field("dispatch_namespace").as_deref() != Some(sample.namespace.as_str()) {
                    errors.push(error(
                        "wrangler.jsonc",
                        line_with(text, "\"dispatch_namespace\""),
                        "\"dispatch_namespace\" must be \"{{namespace}}\" (the chosen environment's namespace)",
                    ));
                }
                if wrangler_bindings(&v) != sample.bindings {
                    errors.push(error(
                        "wrangler.jsonc",
                        line_with(text, "\"services\""),
                        "\"services\" must list the chosen bindings: put {{bindings_jsonc}} in it",
                    ));
                }
            }
        }
    }
}

/// JSONC (comments, trailing commas) as a value, or the line and message of its mistake.
fn parse_jsonc(text: &str) -> Result<serde_json::Value, (usize, String)> {
    match jsonc_parser::parse_to_serde_value::<Option<serde_json::Value>>(
        text,
        &jsonc_parser::ParseOptions::default(),
    ) {
        Ok(Some(v)) if v.is_object() => Ok(v),
        Ok(_) => Err((1, "it is not an object ({ … })".into())),
        Err(e) => Err((e.line_display(), e.kind().to_string())),
    }
}

/// The `services` of a wrangler.jsonc value (binding → service).
fn wrangler_bindings(v: &serde_json::Value) -> BTreeMap<String, String> {
    v.get("services")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s.get("binding")?.as_str()?.to_owned(),
                s.get("service")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Rendering.

const PLACEHOLDERS: &[&str] = &[
    "service",
    "class_name",
    "kind",
    "namespace",
    "environment",
    "description",
    "description_json",
    "bindings_jsonc",
    "env_interface",
];

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

impl Values {
    fn sample(kind: ServiceKind) -> Values {
        Values {
            service: "example-service".into(),
            kind,
            namespace: "dotdo-example".into(),
            environment: Environment::Staging,
            description: "An \"example\" service.".into(),
            bindings: BTreeMap::from([("EXAMPLE_SERVICE".into(), "example".into())]),
        }
    }

    /// `my-service` → `MyService`.
    fn class_name(&self) -> String {
        self.service
            .split('-')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// A placeholder's lines (one for the inline ones).
    fn lines(&self, name: &str) -> Vec<String> {
        match name {
            "service" => vec![self.service.clone()],
            "class_name" => vec![self.class_name()],
            "kind" => vec![self.kind.as_str().to_owned()],
            "namespace" => vec![self.namespace.clone()],
            "environment" => vec![self.environment.as_str().to_owned()],
            "description" => vec![self.description.clone()],
            "description_json" => {
                vec![serde_json::Value::from(self.description.as_str()).to_string()]
            }
            "bindings_jsonc" => {
                let n = self.bindings.len();
                self.bindings
                    .iter()
                    .enumerate()
                    .map(|(i, (binding, service))| {
                        let entry = serde_json::json!({ "binding": binding, "service": service });
                        // `{ "binding": "DB_SERVICE", "service": "db" }`, as the runbook writes it.
                        let text = format!(
                            "{{ \"binding\": {}, \"service\": {} }}",
                            entry["binding"], entry["service"]
                        );
                        if i + 1 < n {
                            text + ","
                        } else {
                            text
                        }
                    })
                    .collect()
            }
            "env_interface" => self
                .bindings
                .iter()
                .map(|(binding, service)| format!("{binding}: Fetcher // the {service} service"))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Every `{{name}}` of `text` (lowercase letters and '_' between the braces) with its line.
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("{{") {
            let after = &rest[at + 2..];
            let len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            if len > 0 && after[len..].starts_with("}}") {
                out.push((i + 1, &after[..len]));
                rest = &after[len + 2..];
            } else {
                rest = after;
            }
        }
    }
    out
}

/// `text` with its placeholders replaced. A placeholder alone on its line expands to lines
/// indented like it (or to none); inline, a block placeholder's lines are joined by spaces.
fn render(text: &str, v: &Values) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => match b.strip_suffix('\r') {
                Some(b2) => (b2, "\r\n"),
                None => (b, "\n"),
            },
            None => (line, ""),
        };
        let trimmed = body.trim();
        let alone = placeholders(trimmed)
            .first()
            .filter(|(_, name)| trimmed == format!("{{{{{name}}}}}") && PLACEHOLDERS.contains(name))
            .map(|(_, name)| *name);
        if let Some(name) = alone {
            let indent = &body[..body.len() - body.trim_start().len()];
            let lines = v.lines(name);
            let between = if end.is_empty() { "\n" } else { end };
            for (i, l) in lines.iter().enumerate() {
                out.push_str(indent);
                out.push_str(l);
                out.push_str(if i + 1 < lines.len() { between } else { end });
            }
            continue;
        }
        let mut rest = body;
        while let Some(at) = rest.find("{{") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            if len > 0 && after[len..].starts_with("}}") && PLACEHOLDERS.contains(&name) {
                out.push_str(&v.lines(name).join(" "));
                rest = &after[len + 2..];
            } else {
                out.push_str("{{");
                rest = after;
            }
        }
        out.push_str(rest);
        out.push_str(end);
    }
    out
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

/// The dispatch namespace of `environment` under `profile` (as the deploy plan finds it).
fn namespace_for(profile: &Profile, environment: Environment) -> String {
    if environment == profile.environment {
        profile.namespace.clone()
    } else {
        environment.namespace()
    }
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
        let profile = self.profile(&req.profile_id).await?;
        let namespace = namespace_for(&profile, req.environment);
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
