//! Rendering a template: its placeholders and the values they expand to.

use super::*;

pub(super) const PLACEHOLDERS: &[&str] = &[
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
impl Values {
    pub(super) fn sample(kind: ServiceKind) -> Values {
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
    pub(super) fn class_name(&self) -> String {
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
    pub(super) fn lines(&self, name: &str) -> Vec<String> {
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
pub(super) fn placeholders(text: &str) -> Vec<(usize, &str)> {
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
pub(super) fn render(text: &str, v: &Values) -> String {
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
