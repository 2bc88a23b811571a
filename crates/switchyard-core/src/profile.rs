//! Profiles: one environment of the platform as the app talks to it.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::names::{Environment, ServiceName, DEFAULT_SERVICES};

/// How carefully the app treats a profile's mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Protection {
    /// Confirmation matched to risk (production deploys still need the name typed).
    #[default]
    Normal,
    /// Every mutation asks for confirmation.
    Protected,
    /// Mutations are disabled; the UI says why.
    ReadOnly,
}

/// A profile's stable identifier (also the keychain account prefix `<id>/<kind>`).
pub type ProfileId = String;

/// The id of the profile bound to the embedded sandbox.
pub const SANDBOX_PROFILE_ID: &str = "local-sandbox";

/// Where one environment of the platform lives and how the app treats it. Holds no secrets:
/// API keys live in the OS keychain, keyed by profile id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: ProfileId,
    pub name: String,
    pub environment: Environment,
    #[serde(default)]
    pub protection: Protection,
    /// True for the profile bound to the embedded local sandbox.
    #[serde(default)]
    pub sandbox: bool,
    pub deploy_api_url: String,
    pub auth_url: String,
    pub cloudflare_api_url: String,
    #[serde(default)]
    pub account_id: String,
    /// The dispatch namespace of this environment.
    pub namespace: String,
    pub services: Vec<String>,
    /// URL of a service's root; `{service}` and `{environment}` are replaced.
    pub service_url_template: String,
    #[serde(default)]
    pub dispatcher_url: String,
}

impl Profile {
    /// A profile for `environment` with the runbook's URLs as defaults.
    pub fn for_environment(id: &str, name: &str, environment: Environment) -> Self {
        let service_url_template = match environment {
            Environment::Production => "https://{service}.do".to_owned(),
            _ => "https://{service}.{environment}.do".to_owned(),
        };
        Profile {
            id: id.to_owned(),
            name: name.to_owned(),
            environment,
            protection: if environment == Environment::Production {
                Protection::Protected
            } else {
                Protection::Normal
            },
            sandbox: false,
            deploy_api_url: "https://deploy.do".to_owned(),
            auth_url: "https://auth.do".to_owned(),
            cloudflare_api_url: "https://api.cloudflare.com/client/v4".to_owned(),
            account_id: String::new(),
            namespace: environment.namespace(),
            services: DEFAULT_SERVICES.iter().map(|s| (*s).to_owned()).collect(),
            service_url_template,
            dispatcher_url: String::new(),
        }
    }

    /// The profile offered on first run: the embedded local sandbox, so the app does its whole
    /// job with no account anywhere. The URLs are filled in when the sandbox starts.
    pub fn local_sandbox() -> Self {
        Profile {
            sandbox: true,
            protection: Protection::Normal,
            ..Profile::for_environment(SANDBOX_PROFILE_ID, "Local sandbox", Environment::Production)
        }
    }

    /// The URL of `service`'s `/health` under this profile.
    pub fn service_health_url(&self, service: &str) -> String {
        let base = self
            .service_url_template
            .replace("{service}", service)
            .replace("{environment}", self.environment.as_str());
        format!("{}/health", base.trim_end_matches('/'))
    }

    /// Check every field, naming the first that is wrong and how to fix it.
    pub fn validate(&self) -> Result<(), AppError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(AppError::invalid_input(format!(
                "Profile id \"{}\" is not valid: use 1 to 64 lowercase letters, digits and dashes.",
                self.id
            )));
        }
        if self.name.trim().is_empty() {
            return Err(AppError::invalid_input("The profile needs a name."));
        }
        for (field, url) in [
            ("Deploy API URL", &self.deploy_api_url),
            ("Auth service URL", &self.auth_url),
            ("Cloudflare API URL", &self.cloudflare_api_url),
            ("Service URL template", &self.service_url_template),
        ] {
            check_url(field, url)?;
        }
        if !self.dispatcher_url.is_empty() {
            check_url("Dispatcher URL", &self.dispatcher_url)?;
        }
        if !self.service_url_template.contains("{service}") {
            return Err(AppError::invalid_input(
                "The service URL template must contain {service}, e.g. https://{service}.do.",
            ));
        }
        if self.namespace.trim().is_empty() {
            return Err(AppError::invalid_input(
                "The profile needs a dispatch namespace, e.g. dotdo-production.",
            ));
        }
        if !self.account_id.is_empty()
            && !self
                .account_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AppError::invalid_input(
                "The Cloudflare account id may only contain letters, digits, - and _ (it is 32 hex characters).",
            ));
        }
        if self.services.is_empty() {
            return Err(AppError::invalid_input(
                "The profile needs at least one service.",
            ));
        }
        for s in &self.services {
            ServiceName::parse(s)?;
        }
        Ok(())
    }

    pub fn summary(&self) -> ProfileSummary {
        ProfileSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            environment: self.environment,
            protection: self.protection,
            sandbox: self.sandbox,
        }
    }
}

/// The host of `rest` (what follows `scheme://`): without user info, port, path, query.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_url(field: &str, url: &str) -> Result<(), AppError> {
    let not_a_url = || {
        AppError::invalid_input(format!(
            "{field} \"{url}\" is not a URL: it must start with https:// (or http:// for a server on this machine)."
        ))
    };
    let (rest, plain) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(r), _) => (r, false),
        (None, Some(r)) => (r, true),
        _ => return Err(not_a_url()),
    };
    if rest.is_empty() || rest.contains(char::is_whitespace) || host_of(rest).is_empty() {
        return Err(not_a_url());
    }
    // Keys travel in this URL's requests: in clear text only to this machine.
    if plain && !is_loopback_host(host_of(rest)) {
        return Err(AppError::invalid_input(format!(
            "{field} \"{url}\" uses http:// for {}, another machine: keys sent there would cross the network unencrypted. Use https://, or http:// only for a server on this machine (localhost, 127.0.0.1).",
            host_of(rest)
        )));
    }
    Ok(())
}

/// What the window needs to show a profile in the switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub id: ProfileId,
    pub name: String,
    pub environment: Environment,
    pub protection: Protection,
    pub sandbox: bool,
}

#[cfg(test)]
mod tests {

    #[test]
    fn plain_http_is_only_for_this_machine() {
        let mut p = Profile::for_environment("x", "X", Environment::Staging);
        for ok in [
            "http://127.0.0.1:8787/deploy-api",
            "http://localhost:3000",
            "http://[::1]:9000/x",
            "https://deploy.example.com",
        ] {
            p.deploy_api_url = ok.into();
            assert!(p.validate().is_ok(), "{ok} is refused");
        }
        for bad in [
            "http://deploy.example.com",
            "http://10.0.0.5:8787",
            "http://127.0.0.1.evil.com/",
            "http://user@deploy.example.com",
        ] {
            p.deploy_api_url = bad.into();
            let e = p.validate().unwrap_err();
            assert!(e.message.contains("Deploy API URL"), "{}", e.message);
            assert!(e.message.contains("https://"), "{}", e.message);
        }
        p.deploy_api_url = "http://".into();
        assert!(p.validate().is_err());
    }

    use super::*;
    use crate::ErrorCode;

    #[test]
    fn environment_defaults_follow_the_runbook() {
        let p = Profile::for_environment("prod", "Production", Environment::Production);
        assert_eq!(p.namespace, "dotdo-production");
        assert_eq!(p.service_health_url("gateway"), "https://gateway.do/health");
        assert_eq!(p.protection, Protection::Protected);
        let s = Profile::for_environment("stg", "Staging", Environment::Staging);
        assert_eq!(s.service_health_url("db"), "https://db.staging.do/health");
        p.validate().unwrap();
        s.validate().unwrap();
    }

    #[test]
    fn local_sandbox_profile_covers_every_default_service() {
        let p = Profile::local_sandbox();
        assert!(p.sandbox);
        assert_eq!(p.id, SANDBOX_PROFILE_ID);
        assert_eq!(p.services.len(), DEFAULT_SERVICES.len());
        let json = serde_json::to_value(p.summary()).unwrap();
        assert_eq!(json["protection"], "normal");
    }

    #[test]
    fn validation_names_the_wrong_field() {
        let mut p = Profile::for_environment("x", "X", Environment::Staging);
        p.deploy_api_url = "deploy.do".into();
        let e = p.validate().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("Deploy API URL"), "{}", e.message);

        let mut p = Profile::for_environment("Bad Id", "X", Environment::Staging);
        assert!(p.validate().unwrap_err().message.contains("Profile id"));
        p.id = "ok".into();
        p.services.push("Not A Service".into());
        assert!(p.validate().unwrap_err().message.contains("Not A Service"));
    }

    #[test]
    fn read_only_serializes_camel_case() {
        assert_eq!(
            serde_json::to_value(Protection::ReadOnly).unwrap(),
            "readOnly"
        );
    }
}
