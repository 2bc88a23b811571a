//! The `command` action's shell text: its `${name}` placeholders and their replacement by run
//! inputs that need no quoting.

use std::collections::BTreeMap;

/// `${name}` placeholders of a command body.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Characters a run input may contain to be put into a shell command (no quoting needed).
fn shell_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/@:+=,".contains(c))
}

/// Replace `${name}` with run inputs; refuses values that would need shell quoting.
pub(super) fn interpolate(
    command: &str,
    inputs: &BTreeMap<String, String>,
) -> Result<String, String> {
    let mut out = command.to_owned();
    for name in placeholders(command) {
        let value = inputs
            .get(&name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!("the run input \"{name}\" (used in the command) has no value")
            })?;
        if !shell_safe(value) {
            return Err(format!(
                "the run input \"{name}\" = \"{value}\" cannot go into a shell command: use letters, digits and . _ - / @ : + = , only"
            ));
        }
        out = out.replace(&format!("${{{name}}}"), value);
    }
    Ok(out)
}
