//! Bounds on input that enters the app from outside it, above all the window's IPC arguments:
//! one small, declarative set of checks (`validate::service("service", &s)?`,
//! `validate::text("note", &s, TEXT_MAX)?`, `validate::range("minutes", n, 1..=1440)?`).
//!
//! Each check refuses with [`ErrorCode::InvalidInput`](crate::ErrorCode::InvalidInput) and a
//! message that starts with the field's name, then says what was wrong, what is allowed and
//! what to do: `service: 'gate way' is not a service name — use lowercase letters, digits and
//! '-', starting with a letter (at most 63).` Values are echoed shortened, one line, never for
//! free text (it may be long, or a secret).
//!
//! Where a rule already belongs to a domain type it is reused, not restated
//! ([`ServiceName::parse`], [`Profile::validate`]); rules that two layers need live here once.

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::error::AppError;
use crate::names::ServiceName;
use crate::profile::Profile;

/// What every check returns.
pub type Check = Result<(), AppError>;

/// A name that becomes a DNS label: services, workers (scripts).
pub const NAME_MAX: usize = 63;
/// A one-line label a person types or reads: a profile's name, a dialog title, a confirmation.
pub const LABEL_MAX: usize = 128;
/// Free text: a reason, a note, a search (bytes).
pub const TEXT_MAX: usize = 4 * 1024;
/// A file or folder path (bytes; Linux's PATH_MAX).
pub const PATH_MAX: usize = 4096;
/// An id the app or the platform made: a run id, a deployment id.
pub const ID_MAX: usize = 128;
/// A profile id (also the keychain account prefix).
pub const PROFILE_ID_MAX: usize = 64;
/// A URL of a profile.
pub const URL_MAX: usize = 2048;
/// A dispatch namespace name (Cloudflare documents no limit; this is the app's).
pub const NAMESPACE_MAX: usize = 128;
/// A secret (an API key or token) pasted into the window (bytes).
pub const SECRET_MAX: usize = 4 * 1024;
/// A page of a list: rows per request.
pub const PAGE_LIMIT: RangeInclusive<u32> = 1..=1000;
/// Where a page starts: more rows than any cache here holds.
pub const PAGE_OFFSET: RangeInclusive<u32> = 0..=100_000_000;
/// Epoch milliseconds a JavaScript number represents exactly (up to 2^53 − 1, year 287 396).
pub const EPOCH_MS: RangeInclusive<i64> = 0..=9_007_199_254_740_991;
/// The health ↔ deployment correlation window, in minutes (one minute to a day).
pub const CORRELATION_WINDOW_MINUTES: RangeInclusive<u32> = 1..=1440;
/// A health check's per-target timeout, in ms.
pub const HEALTH_TIMEOUT_MS: RangeInclusive<u32> = 100..=120_000;
/// An HTTP status a rehearsal may make a service answer with.
pub const FAULT_STATUS: RangeInclusive<u16> = 400..=599;
/// The latency a rehearsal may add, in ms (two minutes at most).
pub const FAULT_LATENCY_MS: RangeInclusive<u32> = 0..=120_000;

fn refuse(field: &str, problem: impl Display) -> AppError {
    AppError::invalid_input(format!("{field}: {problem}"))
}

/// `value` as a message shows it: quoted, on one line, at most 40 characters (counted in
/// characters, never slicing bytes).
pub fn shown(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("'{out}'")
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Free text of at most `max_bytes` (line breaks allowed; no NUL). The value is never echoed.
pub fn text(field: &str, value: &str, max_bytes: usize) -> Check {
    if value.len() > max_bytes {
        return Err(refuse(
            field,
            format!(
                "the text is {} long, more than the {} allowed — shorten it and try again.",
                size(value.len()),
                size(max_bytes)
            ),
        ));
    }
    if value.contains('\0') {
        return Err(refuse(
            field,
            "the text contains a NUL character — retype it or paste it again.",
        ));
    }
    Ok(())
}

/// Free text that must say something (a reason, a note): not blank, at most `max_bytes`.
pub fn required_text(field: &str, value: &str, max_bytes: usize) -> Check {
    if value.trim().is_empty() {
        return Err(refuse(field, "it is empty — write a few words."));
    }
    text(field, value, max_bytes)
}

/// One line of at most `max_chars` characters with no control characters (empty allowed).
pub fn line(field: &str, value: &str, max_chars: usize) -> Check {
    if value.chars().nth(max_chars).is_some() {
        return Err(refuse(
            field,
            format!(
                "{} is longer than {max_chars} characters — shorten it.",
                shown(value)
            ),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(refuse(
            field,
            format!(
                "{} contains a line break or control character — keep it on one line.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A secret pasted into the window: at most `SECRET_MAX` bytes, one line. Never echoed.
pub fn secret(field: &str, value: &str) -> Check {
    if value.len() > SECRET_MAX {
        return Err(refuse(
            field,
            format!(
                "the value is {} long; keys and tokens are far shorter (at most {}) — copy the key alone and paste it again.",
                size(value.len()),
                size(SECRET_MAX)
            ),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(refuse(
            field,
            "the value contains control characters — copy the key alone and paste it again.",
        ));
    }
    Ok(())
}

/// A service name, as [`ServiceName::parse`] accepts it (its rule, the field's message).
pub fn service(field: &str, value: &str) -> Check {
    ServiceName::parse(value).map(|_| ()).map_err(|_| {
        refuse(
            field,
            format!(
                "{} is not a service name — use lowercase letters, digits and '-', starting with a letter (at most {NAME_MAX}), for example 'gateway'.",
                shown(value)
            ),
        )
    })
}

/// What a URL path or a confirmation would trip over in a name: blank, a space or line
/// break, '/', a control character.
fn path_trouble(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("it is empty")
    } else if value.chars().any(char::is_whitespace) {
        Some("it contains a space or line break")
    } else if value.contains('/') {
        Some("it contains '/'")
    } else if value.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    }
}

/// A worker (script) name in a dispatch namespace. Cloudflare documents
/// `^[a-z0-9_][a-z0-9-_]*$` but does not enforce it for Workers for Platforms, and the Deploy API
/// names a versioned deploy `<service>-<version>` (`gateway-v1.2.0`): any worker the platform
/// lists must be openable, so only what a URL path would trip over is refused (blank, spaces,
/// '/', control characters), bounded at 255 bytes.
pub fn script(field: &str, value: &str) -> Check {
    let problem = path_trouble(value)
        .or_else(|| (value.len() > 255).then_some("it is longer than 255 bytes"));
    if let Some(problem) = problem {
        return Err(refuse(
            field,
            format!(
                "{} is not a worker name: {problem} — pick the worker from the list.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A dispatch namespace name: Cloudflare accepts any non-empty name, the app refuses what a URL
/// path or a confirmation would trip over (blank, spaces, '/', control characters) and bounds it.
pub fn namespace(field: &str, value: &str) -> Check {
    let problem = path_trouble(value)
        .or_else(|| (value.chars().nth(NAMESPACE_MAX).is_some()).then_some("it is too long"));
    match problem {
        None => Ok(()),
        Some(p) => Err(refuse(
            field,
            format!(
                "{} is not a namespace name ({p}) — use letters, digits and '-', without spaces or '/' (at most {NAMESPACE_MAX}), for example 'dotdo-staging'.",
                shown(value)
            ),
        )),
    }
}

/// The profile id rule: 1 to 64 lowercase letters, digits and dashes.
pub fn is_profile_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= PROFILE_ID_MAX
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A profile id ([`is_profile_id`]).
pub fn profile_id(field: &str, value: &str) -> Check {
    if !is_profile_id(value) {
        return Err(refuse(
            field,
            format!(
                "{} is not a profile id — use 1 to {PROFILE_ID_MAX} lowercase letters, digits and '-'; choose the profile in the top bar.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// An id the app or the platform made: run ids (`run_<ms>_<hex>`, `run-<uuid>`), deployment ids
/// (`deploy_<ms>_<hex>`, `manual_<ms>_<hex>`): 1 to 128 ASCII letters, digits, '_' and '-'.
pub fn id(field: &str, value: &str) -> Check {
    let ok = !value.is_empty()
        && value.len() <= ID_MAX
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(refuse(
            field,
            format!(
                "{} is not an id — ids are 1 to {ID_MAX} letters, digits, '_' and '-' (for example 'deploy_1696348800000_a1b2c3d4'); pick the item from its list again.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A SHA-256 as hex (64 characters; either case).
pub fn sha256(field: &str, value: &str) -> Check {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refuse(
            field,
            format!(
                "{} is not a SHA-256 — use its 64 hexadecimal characters; pick the bundle from its list again.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A key such as an input's or a parameter's name, an action (`deploy.apply`) or a fault target
/// (`service:gateway`): 1 to `max_chars` ASCII letters, digits and `_ - . :`.
pub fn key(field: &str, value: &str, max_chars: usize) -> Check {
    let ok = !value.is_empty()
        && value.len() <= max_chars
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !ok {
        return Err(refuse(
            field,
            format!(
                "{} is not a valid key — use 1 to {max_chars} letters, digits and '_', '-', '.', ':'.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A path the operator chose or pasted: at most 4096 bytes, no NUL or line break (empty allowed:
/// the callers say what an empty path means).
pub fn path(field: &str, value: &str) -> Check {
    if value.len() > PATH_MAX {
        return Err(refuse(
            field,
            format!(
                "the path is {} long, more than the {PATH_MAX} bytes a path can have — choose the file or folder in the chooser instead.",
                size(value.len())
            ),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(refuse(
            field,
            format!(
                "{} contains a line break or control character — choose the file or folder in the chooser, or paste its path again.",
                shown(value)
            ),
        ));
    }
    Ok(())
}

/// A URL's length (its form is the owner's rule, e.g. [`Profile::validate`]).
pub fn url(field: &str, value: &str) -> Check {
    if value.len() > URL_MAX {
        return Err(refuse(
            field,
            format!(
                "{} is longer than {URL_MAX} characters — use the service's base URL.",
                shown(value)
            ),
        ));
    }
    line(field, value, URL_MAX)
}

/// A number within `allowed`.
pub fn range<T: PartialOrd + Display>(field: &str, value: T, allowed: RangeInclusive<T>) -> Check {
    if !allowed.contains(&value) {
        return Err(refuse(
            field,
            format!(
                "{value} is out of range — use {} to {}.",
                allowed.start(),
                allowed.end()
            ),
        ));
    }
    Ok(())
}

/// A list of at most `max` items.
pub fn count(field: &str, len: usize, max: usize) -> Check {
    if len > max {
        return Err(refuse(
            field,
            format!("{len} items is too many — send at most {max}."),
        ));
    }
    Ok(())
}

/// A time in epoch milliseconds as JavaScript sends it (a number): whole, 0 or later.
pub fn epoch_ms_f64(field: &str, value: f64) -> Check {
    let max = *EPOCH_MS.end() as f64;
    if !value.is_finite() || value.fract() != 0.0 || !(0.0..=max).contains(&value) {
        return Err(refuse(
            field,
            format!("{value} is not a time — send whole milliseconds since 1970 (0 to {max})."),
        ));
    }
    Ok(())
}

/// A time in epoch milliseconds.
pub fn epoch_ms(field: &str, value: i64) -> Check {
    range(field, value, EPOCH_MS)
}

/// Apply `check` to the value when there is one.
pub fn opt<T: ?Sized>(value: Option<&T>, check: impl FnOnce(&T) -> Check) -> Check {
    value.map_or(Ok(()), check)
}

/// A whole profile from the window or an import: lengths first (every text field is bounded),
/// then the profile's own rules ([`Profile::validate`]).
pub fn profile(field: &str, p: &Profile) -> Check {
    profile_id(&format!("{field}.id"), &p.id)?;
    line(&format!("{field}.name"), &p.name, LABEL_MAX)?;
    for (name, value) in [
        ("deployApiUrl", &p.deploy_api_url),
        ("authUrl", &p.auth_url),
        ("cloudflareApiUrl", &p.cloudflare_api_url),
        ("serviceUrlTemplate", &p.service_url_template),
        ("dispatcherUrl", &p.dispatcher_url),
    ] {
        url(&format!("{field}.{name}"), value)?;
    }
    line(&format!("{field}.accountId"), &p.account_id, 64)?;
    if !p.namespace.trim().is_empty() {
        namespace(&format!("{field}.namespace"), &p.namespace)?;
    }
    count(&format!("{field}.services"), p.services.len(), 64)?;
    for s in &p.services {
        service(&format!("{field}.services"), s)?;
    }
    p.validate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Environment, ErrorCode};

    fn refused(r: Check, field: &str) -> String {
        let e = r.expect_err("refused");
        assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
        assert!(
            e.message.starts_with(&format!("{field}: ")),
            "the message names {field}: {}",
            e.message
        );
        e.message
    }

    #[test]
    fn a_bad_service_name_is_named_with_what_is_allowed() {
        let m = refused(service("service", "gate way"), "service");
        assert_eq!(
            m,
            "service: 'gate way' is not a service name — use lowercase letters, digits and '-', starting with a letter (at most 63), for example 'gateway'."
        );
        service("service", "gateway").unwrap();
        service("service", "deploy-api").unwrap();
        refused(service("service", &"a".repeat(64)), "service");
    }

    #[test]
    fn the_service_rule_is_service_names_rule() {
        for s in ["", "Gateway", "1db", "db-", "a b", "gateway", "x1-y"] {
            assert_eq!(
                service("s", s).is_ok(),
                ServiceName::parse(s).is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_profile_id_rule_is_the_profiles_rule() {
        for id in [
            "",
            "ok",
            "local-sandbox",
            "Bad",
            "a b",
            "é",
            &"a".repeat(64),
            &"a".repeat(65),
        ] {
            let mut p = Profile::for_environment("x", "X", Environment::Staging);
            p.id = id.to_owned();
            assert_eq!(profile_id("id", id).is_ok(), p.validate().is_ok(), "{id:?}");
        }
    }

    #[test]
    fn free_text_is_bounded_and_never_echoed() {
        text("note", &"x".repeat(4096), TEXT_MAX).unwrap();
        let m = refused(text("note", &"secretish".repeat(1000), TEXT_MAX), "note");
        assert!(!m.contains("secretish"), "{m}");
        assert!(m.contains("4 KiB"), "{m}");
        refused(required_text("reason", "  \n", TEXT_MAX), "reason");
        let m = refused(secret("value", &"k".repeat(5000)), "value");
        assert!(!m.contains("kkk"), "{m}");
    }

    #[test]
    fn lines_are_bounded_in_characters_and_echo_safely() {
        line("title", &"é".repeat(128), LABEL_MAX).unwrap();
        let m = refused(line("title", &"é".repeat(129), LABEL_MAX), "title");
        assert!(m.contains('…'), "{m}");
        let m = refused(line("title", "a\nb", LABEL_MAX), "title");
        assert!(m.contains("'a\\nb'"), "{m}");
    }

    #[test]
    fn names_and_ids_have_their_shapes() {
        script("script", "gateway").unwrap();
        script("script", "_x-1").unwrap();
        // What the Deploy API names a versioned deploy.
        script("script", "gateway-v1.2.0").unwrap();
        for bad in ["", "a b", "a/b", "a\u{7}", &"a".repeat(256)] {
            refused(script("script", bad), "script");
        }
        namespace("namespace", "dotdo-staging").unwrap();
        namespace("namespace", "Tenant_A.1").unwrap();
        for bad in ["", "a b", "a/b", "a\u{7}", &"n".repeat(129)] {
            refused(namespace("namespace", bad), "namespace");
        }
        for ok in [
            "run_1696348800000_a1b2c3d4",
            "run-6f1c2a0e-1b2c-4d5e-8f90-0123456789ab",
            "deploy_1696348800000_a1b2c3d4",
            "manual_1_abcdef01",
        ] {
            id("runId", ok).unwrap();
        }
        for bad in ["", "run 1", "../x", "é", &"r".repeat(129)] {
            refused(id("runId", bad), "runId");
        }
        sha256("sha256", &"aB".repeat(32)).unwrap();
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            refused(sha256("sha256", bad), "sha256");
        }
        key("action", "deploy.apply", 128).unwrap();
        key("target", "service:gateway", 128).unwrap();
        refused(key("target", "../x/y", 128), "target");
    }

    #[test]
    fn a_refused_worker_or_namespace_name_says_what_is_wrong_with_it() {
        for (bad, why) in [
            ("", "it is empty"),
            ("a b", "it contains a space or line break"),
            ("a\nb", "it contains a space or line break"),
            ("a/b", "it contains '/'"),
            ("a\u{7}", "it contains a control character"),
        ] {
            for m in [
                refused(script("script", bad), "script"),
                refused(namespace("namespace", bad), "namespace"),
            ] {
                assert!(m.contains(why), "{bad:?}: expected {why:?} in {m}");
            }
        }
        let m = refused(script("script", &"a".repeat(256)), "script");
        assert!(m.contains("it is longer than 255 bytes"), "{m}");
        let m = refused(namespace("namespace", &"n".repeat(129)), "namespace");
        assert!(m.contains("it is too long"), "{m}");
    }

    #[test]
    fn numbers_lists_times_and_paths_are_bounded() {
        range("minutes", 15, CORRELATION_WINDOW_MINUTES).unwrap();
        let m = refused(range("minutes", 0, CORRELATION_WINDOW_MINUTES), "minutes");
        assert_eq!(m, "minutes: 0 is out of range — use 1 to 1440.");
        count("ids", 3, 3).unwrap();
        refused(count("ids", 4, 3), "ids");
        epoch_ms_f64("sinceMs", 1_696_348_800_000.0).unwrap();
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1.5, 1e300] {
            refused(epoch_ms_f64("sinceMs", bad), "sinceMs");
        }
        path("folder", "/home/op/workers/gateway").unwrap();
        refused(path("folder", &"p".repeat(4097)), "folder");
        refused(path("folder", "/a\nb"), "folder");
        opt(None::<&str>, |v| id("runId", v)).unwrap();
        refused(opt(Some("a b"), |v| id("runId", v)), "runId");
    }

    #[test]
    fn a_profile_is_bounded_then_checked_by_its_own_rules() {
        let p = Profile::for_environment("stg", "Staging", Environment::Staging);
        profile("profile", &p).unwrap();
        let mut long = p.clone();
        long.name = "n".repeat(129);
        refused(profile("profile", &long), "profile.name");
        let mut url = p.clone();
        url.auth_url = format!("https://auth.do/{}", "x".repeat(3000));
        refused(profile("profile", &url), "profile.authUrl");
        let mut many = p.clone();
        many.services = vec!["svc".into(); 65];
        refused(profile("profile", &many), "profile.services");
        let mut own = p.clone();
        own.deploy_api_url = "deploy.do".into();
        let e = profile("profile", &own).unwrap_err();
        assert!(e.message.contains("Deploy API URL"), "{}", e.message);
    }
}
