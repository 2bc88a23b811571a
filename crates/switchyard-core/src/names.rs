//! Names of the platform: services and environments, validated the way the Deploy API does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The Deploy API's service enum. A profile may extend the list, so it is data, not a Rust enum.
pub const DEFAULT_SERVICES: [&str; 8] = [
    "gateway", "db", "auth", "schedule", "webhooks", "email", "mcp", "queue",
];

/// An environment of the platform; each has its own dispatch namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Staging,
    Development,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }

    /// The dispatch namespace that serves this environment (`dotdo-<environment>`).
    pub fn namespace(self) -> String {
        format!("dotdo-{}", self.as_str())
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Environment::Production),
            "staging" => Ok(Environment::Staging),
            "development" => Ok(Environment::Development),
            other => Err(AppError::invalid_input(format!(
                "\"{other}\" is not an environment. Use production, staging or development."
            ))),
        }
    }
}

/// A service name as workers and hostnames use it: lowercase letters, digits and dashes, starting
/// with a letter, at most 63 characters (it becomes a DNS label).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(try_from = "String", into = "String")]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(name: &str) -> Result<Self, AppError> {
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if name.is_empty()
            || name.len() > 63
            || !valid_chars
            || !starts_with_letter
            || name.ends_with('-')
        {
            return Err(AppError::invalid_input(format!(
                "\"{name}\" is not a valid service name. Use lowercase letters, digits and dashes, \
                 starting with a letter (for example \"gateway\")."
            )));
        }
        Ok(ServiceName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ServiceName {
    type Error = AppError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ServiceName::parse(&value)
    }
}

impl From<ServiceName> for String {
    fn from(value: ServiceName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn environments_map_to_their_namespaces() {
        assert_eq!(Environment::Production.namespace(), "dotdo-production");
        assert_eq!(Environment::Staging.namespace(), "dotdo-staging");
        assert_eq!(Environment::Development.namespace(), "dotdo-development");
    }

    #[test]
    fn unknown_environment_is_invalid_input_naming_the_choices() {
        let err = "prod".parse::<Environment>().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("\"prod\""));
        assert!(err.message.contains("production, staging or development"));
    }

    #[test]
    fn default_services_are_valid_names() {
        for s in DEFAULT_SERVICES {
            assert_eq!(ServiceName::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn bad_service_names_are_rejected() {
        for bad in ["", "Gateway", "1db", "gate way", "db-", &"a".repeat(64)] {
            let err = ServiceName::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
        }
        let err: Result<ServiceName, _> = serde_json::from_str("\"Bad Name\"");
        assert!(err.is_err());
    }
}
