//! The runbook's curl examples (`workers-runbook.md`), run with bash and curl as written, with only
//! the hosts replaced by the sandbox's URLs (and the placeholders filled in), checking the
//! documented response shapes.
//!
//! One finding: the runbook writes `curl https://deploy.do/deployments?service=x&limit=1 -H …`
//! without quotes, so a shell backgrounds `curl …?service=x` at the `&` and the request goes out
//! without the key (401). Those URLs are quoted here; `unquoted_ampersand_drops_the_key` pins the
//! behaviour down.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{script_ids, start, TestSandbox};
use serde_json::Value;
use switchyard_core::DEFAULT_SERVICES;

/// Fills in the placeholders and points the hosts at the sandbox.
fn localize(s: &TestSandbox, cmd: &str) -> String {
    let mut out = cmd
        .replace("<service-name>", "gateway")
        .replace("<service>", "db")
        .replace("<account-id>", &s.d.account_id)
        .replace("<id>", &s.d.account_id)
        .replace("<namespace-name>", "dotdo-production")
        .replace("https://deploy.do", &s.d.deploy_api_url)
        .replace(
            "https://api.cloudflare.com/client/v4",
            &s.d.cloudflare_api_url,
        )
        .replace("https://auth.do", &s.d.auth_url)
        .replace(
            "https://$service.do",
            &format!("{}/services/production/$service", s.d.base_url),
        );
    for service in DEFAULT_SERVICES {
        out = out.replace(
            &format!("https://{service}.do"),
            &format!("{}/services/production/{service}", s.d.base_url),
        );
    }
    out
}

struct Shell {
    work: tempfile::TempDir,
}

impl Shell {
    /// A service directory with a built bundle, and a `git` that answers like a checkout.
    fn new() -> Shell {
        let work = tempfile::tempdir().unwrap();
        let bin = work.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let git = bin.join("git");
        std::fs::write(
            &git,
            "#!/bin/sh\ncase \"$1 $2\" in\n  \"rev-parse HEAD\") echo 4f9c2d1e8b7a6f5e4d3c2b1a09f8e7d6c5b4a392 ;;\n  \"branch --show-current\") echo main ;;\n  \"config user.email\") echo ops@example.com ;;\n  *) exit 1 ;;\nesac\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(work.path().join("dist")).unwrap();
        std::fs::write(
            work.path().join("dist/index.js"),
            "export default {\n  async fetch(request) {\n    const url = new URL(request.url);\n    if (url.pathname === '/health') return Response.json({ status: 'ok', service: 'gateway' });\n    return new Response('gateway', { status: 200 });\n  },\n};\n",
        )
        .unwrap();
        Shell { work }
    }

    async fn run(&self, s: &TestSandbox, script: &str) -> (i32, String) {
        let path = format!(
            "{}:{}",
            self.work.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.work.path())
            .env("PATH", path)
            .env("DEPLOY_API_KEY", &s.d.deploy_key)
            .env("CF_TOKEN", &s.d.cloudflare_token)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(60), child)
            .await
            .expect("bash timed out")
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    async fn json(&self, s: &TestSandbox, cmd: &str) -> Value {
        let (code, out) = self.run(s, &localize(s, cmd)).await;
        assert_eq!(code, 0, "{cmd}\n{out}");
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{cmd}: not JSON ({e}): {out}"))
    }
}

fn assert_deployment_id(id: &Value) {
    let id = id.as_str().unwrap();
    let parts: Vec<&str> = id.split('_').collect();
    assert_eq!(parts.len(), 3, "{id}");
    assert_eq!(parts[0], "deploy");
    assert!(parts[1].chars().all(|c| c.is_ascii_digit()));
    assert!(parts[2].len() == 8 && parts[2].chars().all(|c| c.is_ascii_hexdigit()));
}

const DEPLOY: &str = r#"SCRIPT_B64=$(cat dist/index.js | base64)
echo "Bundle size: $(echo $SCRIPT_B64 | wc -c) bytes" >&2
curl -X POST https://deploy.do/deploy \
  -H "Authorization: Bearer $DEPLOY_API_KEY" \
  -H "Content-Type: application/json" \
  -d "{
    \"service\": \"<service-name>\",
    \"environment\": \"production\",
    \"script\": \"$SCRIPT_B64\",
    \"bindings\": {
      \"DB_SERVICE\": \"db\",
      \"AUTH_SERVICE\": \"auth\"
    },
    \"metadata\": {
      \"commit\": \"$(git rev-parse HEAD)\",
      \"branch\": \"$(git branch --show-current)\",
      \"author\": \"$(git config user.email)\",
      \"version\": \"v1.0.0\"
    }
  }""#;

const ROLLBACK: &str = r#"curl -X POST https://deploy.do/rollback \
  -H "Authorization: Bearer $DEPLOY_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "service": "<service-name>",
    "environment": "production"
  }'"#;

#[tokio::test]
async fn deploy_verify_rollback_and_status_as_the_runbook_writes_them() {
    let s = start(true, false).await;
    let sh = Shell::new();

    // Deploying a Service, steps 5-6 (the bundle's base64 is line-wrapped, as `base64` does).
    let v = sh.json(&s, DEPLOY).await;
    assert_eq!(v["success"], true, "{v}");
    let d = &v["deployment"];
    assert_deployment_id(&d["id"]);
    assert_eq!(d["service"], "gateway");
    assert_eq!(d["environment"], "production");
    assert_eq!(d["status"], "deployed");
    assert_eq!(d["url"], "https://gateway.do");
    assert!(d.get("version").is_some());
    assert_eq!(d["versionTag"], "v1.0.0");
    assert_eq!(
        d["metadata"]["commit"],
        "4f9c2d1e8b7a6f5e4d3c2b1a09f8e7d6c5b4a392"
    );
    let (_, served) = s.content("dotdo-production", "gateway").await;
    assert_eq!(
        served,
        std::fs::read_to_string(sh.work.path().join("dist/index.js")).unwrap()
    );

    // Step 7: verify.
    let v = sh.json(&s, "curl \"https://deploy.do/deployments?service=<service-name>&limit=1\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\"").await;
    assert_eq!(v["success"], true);
    assert_eq!(v["total"], 1);
    assert_eq!(v["deployments"][0]["id"], d["id"]);
    let v = sh.json(&s, "curl https://<service-name>.do/health").await;
    assert_eq!(v, serde_json::json!({"status": "ok", "service": "gateway"}));

    // Rolling Back: history, rollback, verify.
    let v = sh.json(&s, "curl \"https://deploy.do/deployments?service=<service-name>&limit=10\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\"").await;
    assert!(v["deployments"].as_array().unwrap().len() >= 2);
    // The previous production deployment still marked deployed (the history mixes environments).
    let previous = v["deployments"].as_array().unwrap()[1..]
        .iter()
        .find(|d| d["environment"] == "production" && d["status"] == "deployed")
        .unwrap()
        .clone();
    let v = sh.json(&s, ROLLBACK).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["message"], "Rollback successful");
    assert_eq!(v["deployment"]["id"], previous["id"]);
    for key in ["id", "service", "environment", "version", "status"] {
        assert!(v["deployment"].get(key).is_some(), "{key}");
    }
    assert_eq!(v["deployment"]["status"], "deployed");
    let v = sh.json(&s, "curl https://<service-name>.do/health").await;
    assert_eq!(v["status"], "ok");
    let v = sh.json(&s, "curl \"https://deploy.do/deployments?service=<service-name>&limit=5\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\"").await;
    assert_eq!(v["deployments"][0]["status"], "rolled_back");

    // Checking Deployment Status.
    for (cmd, filter) in [
        ("curl \"https://deploy.do/deployments?limit=50\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\"", None),
        ("curl \"https://deploy.do/deployments?environment=production&limit=20\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\"", Some("production")),
    ] {
        let v = sh.json(&s, cmd).await;
        assert_eq!(v["success"], true);
        let list = v["deployments"].as_array().unwrap();
        assert_eq!(v["total"].as_u64().unwrap() as usize, list.len());
        if let Some(env) = filter {
            assert!(list.iter().all(|d| d["environment"] == env));
            assert!(list.len() <= 20);
        }
    }

    // Emergency: rollback of db, as written (no Content-Type header).
    let v = sh.json(&s, "curl -X POST https://deploy.do/rollback \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\" \\\n  -d '{\"service\": \"db\", \"environment\": \"production\"}'").await;
    assert_eq!(v["success"], true, "{v}");

    // Monitoring: filter for failures with jq (the seed has one failed deployment).
    let (code, out) = sh.run(&s, &localize(&s, "curl \"https://deploy.do/deployments?limit=50\" \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\" | \\\n  jq '.deployments[] | select(.status == \"failed\")'")).await;
    assert_eq!(code, 0);
    assert!(out.contains("\"status\": \"failed\""), "{out}");
}

#[tokio::test]
async fn health_loop_and_health_check_script() {
    let s = start(true, false).await;
    let sh = Shell::new();
    let (code, out) = sh.run(&s, &localize(&s, "for service in gateway db auth schedule webhooks email mcp queue; do\n  echo \"Testing $service...\"\n  curl -s https://$service.do/health | jq\ndone")).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("\"status\": \"ok\"").count(), 8, "{out}");

    let script = r#"SERVICES="gateway db auth schedule webhooks email mcp queue"
FAILED=0

for service in $SERVICES; do
  echo -n "Checking $service... "
  STATUS=$(curl -s -o /dev/null -w "%{http_code}" https://$service.do/health)

  if [ "$STATUS" = "200" ]; then
    echo "✅ OK"
  else
    echo "❌ FAILED (HTTP $STATUS)"
    FAILED=$((FAILED + 1))
  fi
done

echo ""
echo "Results: $((${#SERVICES[@]} - FAILED))/${#SERVICES[@]} services healthy"

if [ $FAILED -gt 0 ]; then
  echo "⚠️ Some services are unhealthy!"
  exit 1
fi"#;
    let (code, out) = sh.run(&s, &localize(&s, script)).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("✅ OK").count(), 8, "{out}");

    // With a service down, the script says so and fails.
    s.sandbox
        .faults()
        .set(
            "service:mcp".parse().unwrap(),
            switchyard_sandbox::Fault::Down {
                how: Default::default(),
            },
        )
        .unwrap();
    let (code, out) = sh.run(&s, &localize(&s, script)).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Checking mcp... ❌ FAILED (HTTP 503)"),
        "{out}"
    );
}

#[tokio::test]
async fn namespace_scripts_listing_and_trusted_mode() {
    let s = start(true, false).await;
    let sh = Shell::new();
    let v = sh.json(&s, "curl https://api.cloudflare.com/client/v4/accounts/<account-id>/workers/dispatch/namespaces/<namespace-name>/scripts \\\n  -H \"Authorization: Bearer $CF_TOKEN\" | jq").await;
    assert_eq!(v["success"], true);
    assert_eq!(v["errors"], serde_json::json!([]));
    let ids = script_ids(&v);
    assert!(ids.contains(&"gateway") && ids.contains(&"db"), "{ids:?}");
    let v = sh.json(&s, "curl https://api.cloudflare.com/client/v4/accounts/<id>/workers/dispatch/namespaces/dotdo-production/scripts \\\n     -H \"Authorization: Bearer $CF_TOKEN\"").await;
    assert_eq!(v["success"], true);
    // "Configure Namespace to Trusted Mode" sends `trusted`, which is not the API's field
    // (`trusted_workers`): accepted, and nothing changes.
    let v = sh.json(&s, "curl -X PUT \"https://api.cloudflare.com/client/v4/accounts/<account-id>/workers/dispatch/namespaces/<namespace-name>\" \\\n  -H \"Authorization: Bearer $CF_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"trusted\": true\n  }'").await;
    assert_eq!(v["success"], true);
    assert_eq!(v["result"]["namespace_name"], "dotdo-production");
    assert_eq!(v["result"]["trusted_workers"], false);
    // Common Issues: validate a key, grant and verify a permission.
    let v = sh
        .json(
            &s,
            "curl https://auth.do/apikeys/validate -H \"Authorization: Bearer $DEPLOY_API_KEY\"",
        )
        .await;
    assert_eq!(v["valid"], true);
    let grant = format!("curl -X POST https://auth.do/permissions -d '{{\"userId\": \"{}\", \"resource\": \"deployments\", \"action\": \"create\"}}'", s.d.readonly_user_id);
    assert_eq!(sh.json(&s, &grant).await["success"], true);
    let v = sh
        .json(
            &s,
            &format!("curl https://auth.do/permissions/{}", s.d.readonly_user_id),
        )
        .await;
    assert!(v["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["action"] == "create"));
}

#[tokio::test]
async fn unquoted_ampersand_drops_the_key() {
    let s = start(true, false).await;
    let sh = Shell::new();
    // Exactly as printed in the runbook: bash splits the command at `&`.
    let (_, out) = sh.run(&s, &format!("{}; wait", localize(&s, "curl https://deploy.do/deployments?service=<service-name>&limit=1 \\\n  -H \"Authorization: Bearer $DEPLOY_API_KEY\""))).await;
    assert!(out.contains("Missing API key"), "{out}");
}
