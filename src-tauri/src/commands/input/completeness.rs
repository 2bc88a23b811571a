//! The completeness test: every `#[tauri::command]` in `src/commands/`, read from its source.
//! Each argument the window fills (anything but the state, the app handle, a channel, a bool
//! or a fieldless enum that serde already confines) must be passed to a check, with its name
//! as the window spells it, before the command does anything else: before it touches the
//! state or the app, awaits, binds a value or returns. A command added without its checks, or
//! an argument added to one, fails here.

use std::collections::BTreeSet;

/// Argument types with nothing to bound: what the shell injects, and fieldless enums.
const UNCHECKED_TYPES: &[&str] = &[
    "State<'_, AppState>",
    "AppHandle",
    "bool",
    "Environment",
    "ExportFormat",
    "PathKind",
    "LogsFileFormat",
    "SecretKindArg",
    "RolloutCommand",
];
/// Arguments that need no check, and why.
const UNCHECKED_ARGS: &[(&str, &str, &str)] = &[
    (
        "stop_logs",
        "session",
        "an opaque handle: every u32 may name a session, and an unknown one is ignored",
    ),
    (
        "close_worker_listing",
        "listing",
        "an opaque handle: every u32 may name a listing, and an unknown one is ignored",
    ),
];
/// Where the checks end: the first thing a command does that is not a check.
const WORK_STARTS: &[&str] = &[
    "state", "app.", "&app", ".await", "Ok(", "let ", "match ", "if ", "tokio::",
];

#[derive(Debug)]
struct Command {
    file: String,
    name: String,
    args: Vec<(String, String)>,
    body: String,
}

/// The end of the bracketed group opening at `open` (skipping string literals).
fn group_end(src: &str, open: usize, left: char, right: char) -> usize {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in src[open..].char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        } else if c == left {
            depth += 1;
        } else if c == right {
            depth -= 1;
            if depth == 0 {
                return open + i;
            }
        }
    }
    panic!("unbalanced {left}{right} in a command");
}

/// `a: T, b: Map<K, V>` split at its top-level commas into (name, type).
fn split_args(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let list = format!("{list},");
    for (i, c) in list.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                let arg = list[start..i].trim();
                if let Some((name, ty)) = arg.split_once(':') {
                    out.push((name.trim().to_owned(), ty.trim().to_owned()));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

fn commands() -> Vec<Command> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/commands");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the commands folder")
        .map(|e| e.expect("a commands file").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for path in files {
        let src = std::fs::read_to_string(&path).expect("a commands file");
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let attribute = "\n#[tauri::command]\n";
        for (at, _) in src.match_indices(attribute) {
            let fn_at = at + src[at..].find("fn ").expect("the command's fn");
            let open = fn_at + src[fn_at..].find('(').expect("its arguments");
            let name = src[fn_at + 3..open].trim().to_owned();
            let close = group_end(&src, open, '(', ')');
            let body_open = close + src[close..].find('{').expect("its body");
            let body_close = group_end(&src, body_open, '{', '}');
            out.push(Command {
                file: file.clone(),
                name,
                args: split_args(&src[open + 1..close]),
                body: src[body_open + 1..body_close].to_owned(),
            });
        }
    }
    out
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `text` has `word` as a whole identifier.
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[test]
fn every_command_is_found_and_registered() {
    let found: BTreeSet<String> = commands().into_iter().map(|c| c.name).collect();
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
        .expect("lib.rs");
    let registered: BTreeSet<String> = lib
        .split("commands::")
        .skip(1)
        .filter_map(|rest| {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            path.split_once("::").map(|(_, name)| name.to_owned())
        })
        .collect();
    assert!(found.len() > 70, "the parser found only {found:?}");
    assert_eq!(
        found, registered,
        "the commands in src/commands/ and those lib.rs registers differ"
    );
}

#[test]
fn every_argument_from_the_window_is_checked_before_anything_else() {
    let mut missing = Vec::new();
    for c in commands() {
        let end = WORK_STARTS
            .iter()
            .filter_map(|m| c.body.find(m))
            .min()
            .unwrap_or(c.body.len());
        let checks = &c.body[..end];
        for (arg, ty) in &c.args {
            let unchecked = UNCHECKED_TYPES.contains(&ty.as_str())
                || ty.starts_with("Channel<")
                || UNCHECKED_ARGS
                    .iter()
                    .any(|(cmd, a, _)| *cmd == c.name && a == arg);
            if unchecked {
                continue;
            }
            let field = format!("\"{}\"", camel(arg));
            if !(checks.contains(&field) && has_word(checks, arg)) {
                missing.push(format!(
                    "{}::{}: `{arg}: {ty}` is not passed to a check naming {field} before the command's work",
                    c.file.trim_end_matches(".rs"),
                    c.name
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "arguments from the window must be checked first (switchyard_core::validate, or \
         `Checked::check` for a structured one):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_parser_sees_a_missing_check() {
    let src = "fn f(state: State<'_, AppState>, name: String) { state.ops.f(&name).await }";
    let args = split_args(&src[5..src.find(')').unwrap_or(0)]);
    assert_eq!(args[1], ("name".to_owned(), "String".to_owned()));
    assert!(!has_word("validate::id(\"nameX\", &name_x)?;", "name"));
    assert!(has_word("validate::id(\"name\", &name)?;", "name"));
    assert_eq!(camel("typed_confirmation"), "typedConfirmation");
}
