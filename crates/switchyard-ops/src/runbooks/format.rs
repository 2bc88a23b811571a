//! Formatting helpers: UTC time, redaction.

/// `2025-10-04 12:00:00 UTC`
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Hide anything that looks like a key or token: the profile's own secrets, `Bearer …`,
/// `sk_…`, `key=…`/`token=…` values, and long random-looking strings.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    // Each word is looked at once, without a copy (the incident timeline redacts every item of
    // a page, ~10,000 words, on each read).
    let mut replaced: Option<String> = None;
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        let current = replaced.as_deref().unwrap_or(text);
        if current.contains(s.as_str()) {
            replaced = Some(current.replace(s.as_str(), "***"));
        }
    }
    let out = replaced.as_deref().unwrap_or(text);
    let mut result = String::with_capacity(out.len());
    let mut redact_next = false;
    for piece in out.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        let tail = &piece[word.len()..];
        let bearer = word.eq_ignore_ascii_case("bearer");
        if redact_next && bearer {
            result.push_str(word);
        } else if redact_next && !word.is_empty() {
            redact_next = false;
            result.push_str("***");
        } else if bearer || word.eq_ignore_ascii_case("authorization:") {
            redact_next = true;
            result.push_str(word);
        } else if let Some((k, v)) = word.split_once(['=', ':']).filter(|_| names_a_secret(word)) {
            if v.is_empty() {
                result.push_str(word);
            } else {
                // The key and its separator, then the value hidden.
                result.push_str(&word[..=k.len()]);
                result.push_str("***");
            }
        } else if word.starts_with("sk_") || word.starts_with("sk-") || looks_random(word) {
            result.push_str("***");
        } else {
            result.push_str(word);
        }
        result.push_str(tail);
    }
    result
}

/// A word that names a key, token, secret, password or authorization (in any case).
fn names_a_secret(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    ["key", "token", "secret", "password", "authorization"]
        .iter()
        .any(|k| lower.contains(k))
}

/// 32+ characters of letters and digits mixed (hex digests count too): likely a token.
fn looks_random(word: &str) -> bool {
    let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    core.len() >= 32
        && core
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_epoch_milliseconds() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_696_348_800_000), "2023-10-03 16:00:00 UTC");
        assert_eq!(utc(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
    }

    /// The redaction as it was written first (a copy of each word lowered, every key name
    /// searched in each): the faster one must give the same text for every input.
    fn redact_reference(text: &str, secrets: &[String]) -> String {
        let mut out = text.to_owned();
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), "***");
        }
        let mut result = String::with_capacity(out.len());
        let mut redact_next = false;
        for piece in out.split_inclusive(char::is_whitespace) {
            let word = piece.trim_end();
            let tail = &piece[word.len()..];
            let lower = word.to_ascii_lowercase();
            let secretish_key = ["key", "token", "secret", "password", "authorization"]
                .iter()
                .any(|k| lower.contains(k));
            let replaced = if redact_next && lower == "bearer" {
                word.to_owned()
            } else if redact_next && !word.is_empty() {
                redact_next = false;
                "***".to_owned()
            } else if lower == "bearer" || lower == "authorization:" {
                redact_next = true;
                word.to_owned()
            } else if let Some((k, v)) = word.split_once(['=', ':']).filter(|_| secretish_key) {
                if v.is_empty() {
                    word.to_owned()
                } else {
                    format!("{k}{}***", &word[k.len()..k.len() + 1])
                }
            } else if word.starts_with("sk_") || word.starts_with("sk-") || looks_random(word) {
                "***".to_owned()
            } else {
                word.to_owned()
            };
            result.push_str(&replaced);
            result.push_str(tail);
        }
        result
    }

    #[test]
    fn redaction_is_the_same_as_first_written() {
        let secrets: Vec<String> = vec!["my-secret-value".into(), "abc".into(), "Zq9Zq9".into()];
        let words = [
            "Authorization:",
            "AUTHORIZATION:",
            "Bearer",
            "bearer",
            "BEARER",
            "abc.def",
            "key=sk_live_123",
            "API_KEY:",
            "Token:xyz",
            "password=",
            "ok=1",
            "a=b=c",
            "x:y:z",
            "sk-proj",
            "sk_",
            "0123456789abcdef0123456789abcdef",
            "deploy_1696348800000_a1b2c3d4",
            "my-secret-value",
            "pre-my-secret-value-post",
            "Zq9Zq9Zq9",
            "héllo",
            "ключ=значение",
            "secretariat:",
            "",
            "\u{2003}",
            "=",
            ":",
        ];
        let seps = [" ", "  ", "\t", "\n", "\u{2003}", ""];
        // Every pair and a few longer runs of words, with each separator.
        for a in words {
            for b in words {
                for sep in seps {
                    for text in [format!("{a}{sep}{b}"), format!("{a}{sep}{b}{sep}{a} tail")] {
                        assert_eq!(
                            redact(&text, &secrets),
                            redact_reference(&text, &secrets),
                            "{text:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn redaction_hides_keys_and_tokens() {
        let text = "Authorization: Bearer abc.def key=sk_live_123 token:xyz ok=1 deploy_1696348800000_a1b2c3d4 \
                    0123456789abcdef0123456789abcdef my-secret-value";
        let out = redact(text, &["my-secret-value".into()]);
        assert!(!out.contains("abc.def"), "{out}");
        assert!(!out.contains("sk_live_123"), "{out}");
        assert!(!out.contains("xyz"), "{out}");
        assert!(!out.contains("0123456789abcdef0123456789abcdef"), "{out}");
        assert!(!out.contains("my-secret-value"), "{out}");
        assert!(out.contains("ok=1"), "{out}");
        assert!(
            out.contains("deploy_1696348800000_a1b2c3d4"),
            "deployment ids stay: {out}"
        );
    }
}
