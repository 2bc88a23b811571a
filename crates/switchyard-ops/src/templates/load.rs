//! Loading templates: the built-ins and the user's folders, each checked (manifest, placeholders,
//! rendered files) with every problem named by file and line.

use super::*;

/// Every template: the built-ins, then the user's folders (sorted by name).
pub(super) fn catalog(user_dir: &Path) -> (Vec<Loaded>, Vec<TemplateProblem>) {
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
pub(super) fn read_user_templates(dir: &Path) -> Vec<(String, PathBuf, Files)> {
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
pub(super) fn read_tree(root: &Path) -> Files {
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
pub(super) struct Manifest {
    name: String,
    kind: ServiceKind,
    description: String,
    #[serde(default)]
    bindings: BTreeMap<String, String>,
}

pub(super) fn error(file: &str, line: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        file: file.to_owned(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        message: message.into(),
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.matches('\n').count() + 1)
}

/// The 1-based line where `needle` first appears in `text` (0: nowhere).
pub(super) fn line_with(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(0, |at| line_of(text, at))
}

/// A binding name: a JavaScript identifier (it becomes a member of `interface Env`).
pub(super) fn binding_name_problem(name: &str) -> Option<String> {
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
pub(super) fn load(
    id: &str,
    origin: TemplateOrigin,
    files: Files,
) -> Result<Loaded, Vec<TemplateError>> {
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

pub(super) fn check_manifest(m: &Manifest, text: &str, errors: &mut Vec<TemplateError>) {
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
pub(super) fn check_rendered(
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
pub(super) fn parse_jsonc(text: &str) -> Result<serde_json::Value, (usize, String)> {
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
pub(super) fn wrangler_bindings(v: &serde_json::Value) -> BTreeMap<String, String> {
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
