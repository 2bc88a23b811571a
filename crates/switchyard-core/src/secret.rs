//! [`Secret`]: a secret value that cannot be printed or serialized by accident.

use std::fmt;

use zeroize::Zeroizing;

/// What a [`Secret`] prints as, in `Debug` and `Display` alike.
pub const REDACTED: &str = "***";

/// A secret value (an API key, a token) that redacts itself.
///
/// - `Debug` and `Display` print `***`, so a `Secret` inside any struct, log line, error or
///   `format!` shows nothing of its value.
/// - It does not implement `Serialize`, so it cannot reach the webview, the database or a file
///   through serde.
/// - The value is read only through [`Secret::expose`], which makes every use greppable.
/// - The memory holding the value is zeroed when the `Secret` is dropped.
///
/// Equality compares in time independent of where the values first differ.
///
/// `Secret` deliberately has no `Serialize`; this does not compile:
///
/// ```compile_fail
/// fn needs_serialize<T: serde::Serialize>() {}
/// needs_serialize::<switchyard_core::Secret>();
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a value. The `String` is moved in, not copied, so no unzeroed copy is left behind.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret value. Call this only where the value is really needed (an `Authorization`
    /// header, the keychain), never to print it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// True when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        // The length is not hidden (it is not secret enough to matter); the content is compared
        // without an early exit.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "sk-live-do-not-print-me";

    #[derive(Debug)]
    #[allow(dead_code)] // the fields are read through Debug only
    struct Credentials {
        profile: String,
        key: Secret,
        token: Option<Secret>,
    }

    fn creds() -> Credentials {
        Credentials {
            profile: "production".to_owned(),
            key: Secret::new(VALUE),
            token: Some(Secret::from(format!("{VALUE}-token"))),
        }
    }

    #[test]
    fn debug_and_display_print_stars() {
        let secret = Secret::new(VALUE);
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret:#?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.to_string(), "***");
        assert_eq!(
            format!("{secret:>10}"),
            "***",
            "padding does not leak the length"
        );
    }

    #[test]
    fn structs_containing_a_secret_are_redacted() {
        let creds = creds();
        for text in [format!("{creds:?}"), format!("{creds:#?}")] {
            assert!(!text.contains(VALUE), "the value leaked into debug output");
            assert!(!text.contains("sk-live"), "part of the value leaked");
            assert!(text.contains("***"));
            assert!(text.contains("production"), "other fields still print");
        }
        let err = format!("failed with {:?} and {}", creds.key, creds.key);
        assert_eq!(err, "failed with *** and ***");
    }

    #[test]
    fn expose_gives_the_value() {
        let secret = Secret::new(VALUE);
        assert!(secret.expose() == VALUE);
        assert!(!secret.is_empty());
        assert!(Secret::new("").is_empty());
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::new(VALUE), Secret::from(VALUE));
        assert_ne!(Secret::new(VALUE), Secret::new("sk-live-do-not-print-mE"));
        assert_ne!(Secret::new(VALUE), Secret::new("sk-live"));
        assert_eq!(Secret::new(VALUE).clone(), Secret::new(VALUE));
    }
}
