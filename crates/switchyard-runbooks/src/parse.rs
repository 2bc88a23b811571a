//! Markdown → [`Runbook`]: front matter, title, steps, checks, action blocks, gates and
//! conditions. Every problem is collected with its line number; a runbook with any problem does
//! not load.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::action::{parse_action, ValueKind};
use crate::model::{
    ActionBlock, ManualCheck, Runbook, RunbookError, RunbookInput, RunbookOrigin, RunbookStep,
    StepCondition, StepOutcome,
};

/// Line numbers of byte offsets.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

#[derive(Default)]
struct Errors(Vec<RunbookError>);

impl Errors {
    fn at(&mut self, line: u32, message: impl Into<String>) {
        self.0.push(RunbookError {
            line,
            message: message.into(),
        });
    }
}

struct FrontMatter {
    category: Option<String>,
    replaces: Option<String>,
    inputs: Vec<RunbookInput>,
    /// Byte offset where the Markdown after the front matter starts.
    end: usize,
}

/// `---` … `---` at the very top, holding `key: value` lines.
fn front_matter(source: &str, lines: &Lines, errors: &mut Errors) -> FrontMatter {
    let mut fm = FrontMatter {
        category: None,
        replaces: None,
        inputs: Vec::new(),
        end: 0,
    };
    let first = source.lines().next().unwrap_or("");
    if first.trim_end() != "---" {
        return fm;
    }
    let mut offset = first.len() + 1;
    let mut closed = false;
    while offset < source.len() {
        let rest = &source[offset..];
        let line_text = rest.split('\n').next().unwrap_or("");
        let line_no = lines.line(offset);
        offset += line_text.len() + 1;
        let line_text = line_text.trim_end_matches('\r');
        if line_text.trim_end() == "---" {
            closed = true;
            break;
        }
        if line_text.trim().is_empty() || line_text.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line_text.split_once(':') else {
            errors.at(
                line_no,
                format!("front matter line \"{line_text}\" is not `key: value`"),
            );
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "category" => fm.category = Some(value.to_owned()),
            "replaces" => fm.replaces = Some(value.to_owned()),
            "inputs" => fm.inputs = parse_inputs(value, line_no, errors),
            other => errors.at(
                line_no,
                format!("unknown front matter key \"{other}\"; use category, replaces or inputs"),
            ),
        }
    }
    if !closed {
        errors.at(1, "the front matter opened with --- on line 1 is never closed; add a line with --- after it");
        fm.end = source.len();
    } else {
        fm.end = offset.min(source.len());
    }
    fm
}

/// `service, folder, workers:folder, environment=production`
fn parse_inputs(value: &str, line: u32, errors: &mut Errors) -> Vec<RunbookInput> {
    let mut inputs: Vec<RunbookInput> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (decl, default) = match item.split_once('=') {
            Some((d, v)) => (d.trim(), Some(v.trim().to_owned())),
            None => (item, None),
        };
        let (name, kind) = match decl.split_once(':') {
            Some((n, k)) => match ValueKind::parse(k.trim()) {
                Some(kind) => (n.trim(), kind),
                None => {
                    errors.at(line, format!(
                        "input \"{n}\" has unknown kind \"{k}\"; use service, environment, namespace, version, folder, user or text"
                    ));
                    continue;
                }
            },
            None => (decl, ValueKind::for_name(decl)),
        };
        let name_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !name_ok {
            errors.at(line, format!(
                "input name \"{name}\" is not valid: use lowercase letters, digits, - and _, starting with a letter"
            ));
            continue;
        }
        if inputs.iter().any(|i| i.name == name) {
            errors.at(line, format!("input \"{name}\" is declared twice"));
            continue;
        }
        if let Some(d) = &default {
            if let Err(e) = kind.check(d) {
                errors.at(line, format!("default of input \"{name}\": {e}"));
            }
        }
        inputs.push(RunbookInput {
            name: name.to_owned(),
            kind,
            default,
        });
    }
    inputs
}

/// `Roll back {#rollback gate when=check:failed}` → text and attributes.
struct HeadingAttrs {
    id: Option<String>,
    gate: bool,
    when: Option<(String, StepOutcome)>,
}

fn split_heading(raw: &str, line: u32, errors: &mut Errors) -> (String, HeadingAttrs) {
    let mut attrs = HeadingAttrs {
        id: None,
        gate: false,
        when: None,
    };
    let text = raw.trim();
    let Some(open) = text.rfind('{').filter(|_| text.ends_with('}')) else {
        return (text.to_owned(), attrs);
    };
    let inner = &text[open + 1..text.len() - 1];
    for word in inner.split_whitespace() {
        if let Some(id) = word.strip_prefix('#') {
            if valid_id(id) {
                attrs.id = Some(id.to_owned());
            } else {
                errors.at(
                    line,
                    format!("step id \"{id}\" is not valid: use lowercase letters, digits and -"),
                );
            }
        } else if word == "gate" {
            attrs.gate = true;
        } else if let Some(cond) = word.strip_prefix("when=") {
            match cond.rsplit_once(':') {
                Some((id, "passed")) if valid_id(id) => attrs.when = Some((id.to_owned(), StepOutcome::Passed)),
                Some((id, "failed")) if valid_id(id) => attrs.when = Some((id.to_owned(), StepOutcome::Failed)),
                _ => errors.at(line, format!(
                    "\"{word}\" is not a condition: write when=<step-id>:failed or when=<step-id>:passed"
                )),
            }
        } else {
            errors.at(line, format!(
                "unknown heading attribute \"{word}\"; use {{#id}}, gate or when=<step-id>:failed|passed"
            ));
        }
    }
    (text[..open].trim_end().to_owned(), attrs)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `1. Check the gateway` → `1-check-the-gateway`.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "step".into()
    } else {
        out
    }
}

/// The text of a heading's source: `## Roll back ##` → `Roll back`; setext → its first line.
fn heading_text(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or("").trim();
    if first.starts_with('#') {
        let t = first.trim_start_matches('#').trim();
        let t = t.trim_end_matches('#');
        t.trim_end().to_owned()
    } else {
        first.to_owned()
    }
}

struct StepDraft {
    title: String,
    attrs: HeadingAttrs,
    line: u32,
    /// Where the step's body starts (after the heading) and ends (next step or end of file).
    body: Range<usize>,
    checks: Vec<ManualCheck>,
    action: Option<ActionBlock>,
    excluded: Vec<Range<usize>>,
}

/// Parse `source` as runbook `id`. Returns every problem found, each with its line.
pub fn parse_runbook(
    id: &str,
    source: &str,
    origin: RunbookOrigin,
) -> Result<Runbook, Vec<RunbookError>> {
    let lines = Lines::new(source);
    let mut errors = Errors::default();
    let fm = front_matter(source, &lines, &mut errors);
    let base = fm.end;
    let body = &source[base..];

    let mut title: Option<(String, usize)> = None;
    let mut title_end = base;
    let mut steps: Vec<StepDraft> = Vec::new();
    let mut reported_preamble = false;
    let mut heading: Option<(HeadingLevel, Range<usize>)> = None;
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut code: Option<(String, Range<usize>, String)> = None;

    let options =
        Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        let range = range.start + base..range.end + base;
        let line = lines.line(range.start);
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, range)),
            Event::End(TagEnd::Heading(_)) => {
                let Some((level, r)) = heading.take() else {
                    continue;
                };
                let raw = heading_text(&source[r.clone()]);
                match level {
                    HeadingLevel::H1 => {
                        if title.is_some() || !steps.is_empty() {
                            errors.at(line, format!(
                                "\"# {raw}\" is a second title; a runbook has one `#` title and its steps are `##` headings"
                            ));
                        } else {
                            title = Some((raw, r.start));
                            title_end = r.end;
                        }
                    }
                    HeadingLevel::H2 => {
                        if title.is_none() && !reported_preamble {
                            errors.at(line, "this step comes before the runbook's title; start the file with `# Title`");
                            reported_preamble = true;
                        }
                        let (text, attrs) = split_heading(&raw, line, &mut errors);
                        if let Some(prev) = steps.last_mut() {
                            prev.body.end = r.start;
                        }
                        steps.push(StepDraft {
                            title: text,
                            attrs,
                            line,
                            body: r.end..source.len(),
                            checks: Vec::new(),
                            action: None,
                            excluded: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
            Event::Start(tag) if title.is_none() && heading.is_none() && !reported_preamble => {
                if !matches!(tag, Tag::Heading { .. }) {
                    errors.at(line, "there is text before the runbook's title; start the file with `# Title` (front matter may come first)");
                    reported_preamble = true;
                }
                if let Tag::Item = tag {
                    items.push(range);
                } else if let Tag::CodeBlock(CodeBlockKind::Fenced(info)) = tag {
                    code = Some((info.to_string(), range, String::new()));
                }
            }
            Event::Start(Tag::Item) => items.push(range),
            Event::End(TagEnd::Item) => {
                items.pop();
            }
            Event::TaskListMarker(_) => {
                let Some(item) = items.last().cloned() else {
                    continue;
                };
                let item_line = lines.line(item.start);
                let raw = &source[item.clone()];
                let text = raw
                    .split_once(']')
                    .map(|(_, t)| t)
                    .unwrap_or(raw)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                match steps.last_mut() {
                    Some(step) => {
                        step.checks.push(ManualCheck { text, line: item_line });
                        step.excluded.push(item);
                    }
                    None => errors.at(item_line, "a check (- [ ]) comes before the first step; put it under a `##` step heading"),
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                code = Some((info.to_string(), range, String::new()));
            }
            Event::Text(text) => {
                if let Some((_, _, body)) = code.as_mut() {
                    body.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((info, r, block_body)) = code.take() else {
                    continue;
                };
                let info = info.trim();
                if info.split_whitespace().next() != Some("switchyard") {
                    continue;
                }
                let declared = &fm.inputs;
                let parsed = parse_action(info, &block_body, declared);
                let Some(step) = steps.last_mut() else {
                    errors.at(line, "an action block comes before the first step; put it under a `##` step heading");
                    continue;
                };
                step.excluded.push(r);
                match parsed {
                    Err(problems) => {
                        for p in problems {
                            errors.at(line, p);
                        }
                    }
                    Ok(action) => {
                        if step.action.is_some() {
                            errors.at(line, format!(
                                "step \"{}\" already has an action; a step has at most one — put this one under its own `##` heading",
                                step.title
                            ));
                            continue;
                        }
                        let source_text = if block_body.trim().is_empty() {
                            info.to_owned()
                        } else {
                            format!("{info}\n{}", block_body.trim_end())
                        };
                        step.action = Some(ActionBlock {
                            asks: action.asks(),
                            mutates: action.mutates(),
                            action,
                            source: source_text,
                            line,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    if title.is_none() {
        errors.at(
            lines.line(base),
            "the runbook has no title: start it with a `# Title` line",
        );
    }
    if steps.is_empty() && title.is_some() {
        errors.at(
            lines.line(title_end),
            "the runbook has no steps: each `## heading` is a step",
        );
    }

    // Ids, conditions.
    let mut ids: Vec<String> = Vec::new();
    for s in &steps {
        let id = s.attrs.id.clone().unwrap_or_else(|| slug(&s.title));
        if ids.contains(&id) {
            errors.at(
                s.line,
                format!(
                "step id \"{id}\" is used twice; give one of them its own id with {{#another-id}}"
            ),
            );
        }
        ids.push(id);
    }
    let mut out_steps = Vec::new();
    for (i, s) in steps.into_iter().enumerate() {
        let condition = match &s.attrs.when {
            None => None,
            Some((ref_id, outcome)) => match ids.iter().position(|x| x == ref_id) {
                Some(j) if j < i => Some(StepCondition {
                    step_id: ref_id.clone(),
                    step_index: j as u32,
                    outcome: *outcome,
                }),
                Some(_) => {
                    errors.at(s.line, format!(
                        "when={ref_id}:… refers to this step or a later one; a condition can only look at an earlier step"
                    ));
                    None
                }
                None => {
                    errors.at(
                        s.line,
                        format!(
                            "when={ref_id}:… refers to no step; the step ids are: {}",
                            ids.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        let markdown = cut(source, s.body.clone(), &s.excluded);
        out_steps.push(RunbookStep {
            index: i as u32,
            id: ids[i].clone(),
            title: s.title,
            line: s.line,
            markdown,
            checks: s.checks,
            action: s.action,
            gate: s.attrs.gate,
            condition,
        });
    }

    if !errors.0.is_empty() {
        let mut e = errors.0;
        e.sort_by_key(|e| e.line);
        return Err(e);
    }
    let (title, _) = title.unwrap_or_default();
    let summary_end = out_steps
        .first()
        .map(|s| line_start(source, s.line, &lines))
        .unwrap_or(source.len());
    let summary = source[title_end.min(summary_end)..summary_end]
        .trim()
        .to_owned();
    Ok(Runbook {
        id: id.to_owned(),
        title,
        category: fm.category.unwrap_or_else(|| "My runbooks".into()),
        replaces: fm.replaces,
        summary,
        inputs: fm.inputs,
        steps: out_steps,
        origin,
    })
}

fn line_start(source: &str, line: u32, lines: &Lines) -> usize {
    lines
        .starts
        .get(line as usize - 1)
        .copied()
        .unwrap_or(source.len())
}

/// `source[range]` without the `excluded` ranges, trimmed.
fn cut(source: &str, range: Range<usize>, excluded: &[Range<usize>]) -> String {
    let mut out = String::new();
    let mut pos = range.start;
    let mut ex: Vec<&Range<usize>> = excluded.iter().collect();
    ex.sort_by_key(|r| r.start);
    for r in ex {
        if r.start > pos {
            out.push_str(&source[pos..r.start.min(range.end)]);
        }
        pos = pos.max(r.end);
    }
    if pos < range.end {
        out.push_str(&source[pos..range.end]);
    }
    // Collapse the blank lines left where blocks were cut out.
    let mut collapsed = String::new();
    let mut blank = 0;
    for l in out.lines() {
        if l.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        collapsed.push_str(l);
        collapsed.push('\n');
    }
    collapsed.trim().to_owned()
}
