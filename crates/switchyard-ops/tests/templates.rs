//! New services from templates, on real files in a temporary folder: each built-in kind makes
//! the runbook's Manual Setup (src/index.ts with RPC and /health, wrangler.jsonc with the
//! namespace and bindings, package.json scripts, tests/), nothing is ever written over, a bad
//! service name is refused by name, and user templates in `<data dir>/templates` are listed,
//! used, and — when broken — listed with their problems without hiding the built-ins.

use std::collections::BTreeMap;
use std::path::Path;

use switchyard_core::{Environment, ErrorCode, Profile};
use switchyard_ops::{NewService, Ops, ServiceKind, TemplateOrigin};

mod support;
use support::TestClock;

async fn open(dir: &Path) -> Ops {
    support::open_ops(dir, TestClock::ticking(1_760_000_000_000, 1000)).await
}

/// A staging profile whose namespace is not the default one, so the test sees which is used.
async fn staging(ops: &Ops) -> Profile {
    let mut p = Profile::for_environment("stg", "Staging", Environment::Staging);
    p.namespace = "acme-staging".into();
    ops.save_profile(p).await.unwrap()
}

fn bindings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn request(template: &str, service: &str, folder: &Path) -> NewService {
    NewService {
        profile_id: "stg".into(),
        template_id: template.into(),
        service: service.into(),
        environment: Environment::Staging,
        folder: folder.display().to_string(),
        bindings: bindings(&[("DB_SERVICE", "db"), ("AUTH_SERVICE", "auth")]),
        description: Some("Keeps the \"billing\" ledger".into()),
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn jsonc(text: &str) -> serde_json::Value {
    jsonc_parser::parse_to_serde_value::<Option<serde_json::Value>>(
        text,
        &jsonc_parser::ParseOptions::default(),
    )
    .unwrap()
    .unwrap()
}

/// Every name under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(
                p.strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn each_builtin_kind_makes_the_runbooks_manual_setup() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = open(&tmp.path().join("data")).await;
    staging(&ops).await;
    let catalog = ops.service_templates().await.unwrap();
    assert!(catalog.problems.is_empty(), "{:#?}", catalog.problems);
    let kinds: Vec<_> = catalog
        .templates
        .iter()
        .map(|t| (t.id.as_str(), t.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("domain", ServiceKind::Domain),
            ("integration", ServiceKind::Integration),
            ("ai", ServiceKind::Ai)
        ]
    );
    assert!(catalog
        .templates
        .iter()
        .all(|t| t.origin == TemplateOrigin::BuiltIn && t.bindings.contains_key("DB_SERVICE")));

    for (kind, service) in [
        ("domain", "my-service"),
        ("integration", "stripe-sync"),
        ("ai", "summarize"),
    ] {
        let folder = tmp.path().join("workers").join(service);
        std::fs::create_dir_all(folder.parent().unwrap()).unwrap();
        let made = ops
            .create_service(request(kind, service, &folder))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {}", e.message));
        assert_eq!(made.namespace, "acme-staging", "the profile's namespace");
        assert_eq!(made.folder, folder.display().to_string());
        assert!(!made.in_profile, "{service} is not in the profile's list");
        assert!(
            made.next_steps.iter().any(|s| s.contains("service list")),
            "{:?}",
            made.next_steps
        );
        for file in [
            "package.json",
            "wrangler.jsonc",
            "src/index.ts",
            "tests/health.test.ts",
        ] {
            assert!(made.files.contains(&file.to_owned()), "{kind}: {file}");
        }
        assert!(
            !folder.join("dist").exists(),
            "{kind}: dist/ is built, not shipped"
        );
        assert!(!made.files.iter().any(|f| f.contains("{{")));

        // src/index.ts: the RPC entrypoint and the HTTP /health route, with the name in place.
        let index = read(&folder, "src/index.ts");
        let class_name: String = service
            .split('-')
            .map(|p| p[..1].to_uppercase() + &p[1..])
            .collect();
        assert!(
            index.contains(&format!(
                "export class {class_name} extends WorkerEntrypoint<Env>"
            )),
            "{kind}: {index}"
        );
        assert!(index.contains("import { WorkerEntrypoint } from 'cloudflare:workers'"));
        assert!(index.contains("import { Hono } from 'hono'"));
        assert!(index.contains("app.get('/health'"), "{kind}");
        assert!(index.contains(&format!("service: '{service}'")));
        assert!(index.contains("  AUTH_SERVICE: Fetcher // the auth service\n  DB_SERVICE: Fetcher // the db service\n"), "{kind}: {index}");
        assert!(index.contains("Keeps the \"billing\" ledger"));
        assert!(!index.contains("{{"), "{kind}: a placeholder is left");

        // wrangler.jsonc parses, with the name, the namespace and the bindings.
        let wrangler = jsonc(&read(&folder, "wrangler.jsonc"));
        assert_eq!(wrangler["name"], service);
        assert_eq!(wrangler["main"], "src/index.ts");
        assert_eq!(wrangler["dispatch_namespace"], "acme-staging");
        assert_eq!(
            wrangler["services"],
            serde_json::json!([
                { "binding": "AUTH_SERVICE", "service": "auth" },
                { "binding": "DB_SERVICE", "service": "db" }
            ])
        );

        // package.json: the runbook's scripts; the description escaped.
        let package: serde_json::Value =
            serde_json::from_str(&read(&folder, "package.json")).unwrap();
        assert_eq!(package["name"], service);
        assert_eq!(package["description"], "Keeps the \"billing\" ledger");
        for script in ["dev", "build", "deploy", "test", "typecheck"] {
            assert!(package["scripts"][script].is_string(), "{kind}: {script}");
        }
        assert_eq!(
            package["scripts"]["build"],
            "wrangler deploy --dry-run --outdir dist"
        );
        assert!(package["dependencies"]["hono"].is_string());

        // tests/: a first test of /health and of the RPC health().
        let test = read(&folder, "tests/health.test.ts");
        assert!(test.contains(&format!(
            "import app, {{ {class_name} }} from '../src/index'"
        )));
        assert!(test.contains("app.request('/health')"));
        assert!(folder.join("tests/stubs/cloudflare-workers.ts").is_file());

        // Nothing else is left beside it (the temporary folder was renamed).
        let siblings: Vec<_> = std::fs::read_dir(folder.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(siblings.is_empty(), "{siblings:?}");
    }

    // Recorded in the audit log.
    let audit = ops.audit_log("stg", 10).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.entry.action == "service.create" && a.entry.outcome == "ok")
            .count(),
        3
    );
}

#[tokio::test]
async fn an_empty_existing_folder_is_used_and_no_bindings_leave_no_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = open(&tmp.path().join("data")).await;
    staging(&ops).await;
    let folder = tmp.path().join("gateway");
    std::fs::create_dir(&folder).unwrap();
    let mut req = request("domain", "gateway", &folder);
    req.bindings.clear();
    req.description = None;
    req.environment = Environment::Production;
    let made = ops.create_service(req).await.unwrap();
    assert!(made.in_profile, "gateway is one of the profile's services");
    assert_eq!(
        made.namespace, "dotdo-production",
        "another environment's namespace"
    );
    let wrangler = jsonc(&read(&folder, "wrangler.jsonc"));
    assert_eq!(wrangler["services"], serde_json::json!([]));
    assert_eq!(wrangler["dispatch_namespace"], "dotdo-production");
    assert!(read(&folder, "src/index.ts").contains("interface Env {\n}\n"));
    let package: serde_json::Value = serde_json::from_str(&read(&folder, "package.json")).unwrap();
    assert_eq!(package["description"], "The gateway service (domain kind).");
}

#[tokio::test]
async fn an_existing_folder_is_refused_naming_it_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = open(&tmp.path().join("data")).await;
    staging(&ops).await;
    let folder = tmp.path().join("workers");
    std::fs::create_dir_all(folder.join("src")).unwrap();
    std::fs::write(folder.join("package.json"), "{\"name\":\"mine\"}").unwrap();
    std::fs::write(folder.join("src/index.ts"), "// mine").unwrap();
    let before = tree(tmp.path());

    let err = ops
        .create_service(request("domain", "billing", &folder))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict, "{}", err.message);
    assert!(
        err.message.contains(&folder.display().to_string()),
        "{}",
        err.message
    );
    assert!(err.message.contains("not empty"), "{}", err.message);
    assert!(
        err.message
            .contains(&folder.join("billing").display().to_string()),
        "suggests a new folder: {}",
        err.message
    );
    assert_eq!(tree(tmp.path()), before, "nothing was written or left");
    assert_eq!(read(&folder, "package.json"), "{\"name\":\"mine\"}");

    // A file in the way is refused too.
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "keep").unwrap();
    let err = ops
        .create_service(request("ai", "billing", &file))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.contains("not a folder"), "{}", err.message);
    assert_eq!(read(tmp.path(), "notes.txt"), "keep");

    // A folder whose parent does not exist: refused, nothing made.
    let deep = tmp.path().join("missing/billing");
    let err = ops
        .create_service(request("ai", "billing", &deep))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.starts_with("folder: "), "{}", err.message);
    assert!(!tmp.path().join("missing").exists());
}

#[tokio::test]
async fn a_bad_service_name_or_binding_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = open(&tmp.path().join("data")).await;
    staging(&ops).await;
    let folder = tmp.path().join("new");
    for bad in ["My Service", "1db", "db-", "../etc", ""] {
        let err = ops
            .create_service(request("domain", bad, &folder))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}");
        assert!(err.message.starts_with("service: "), "{}", err.message);
        assert!(
            err.message.contains("not a service name"),
            "{}",
            err.message
        );
    }
    let mut req = request("domain", "billing", &folder);
    req.bindings = bindings(&[("DB SERVICE", "db")]);
    let err = ops.create_service(req).await.unwrap_err();
    assert!(err.message.starts_with("bindings: "), "{}", err.message);
    let mut req = request("domain", "billing", &folder);
    req.bindings = bindings(&[("DB_SERVICE", "Not A Service")]);
    let err = ops.create_service(req).await.unwrap_err();
    assert!(
        err.message.starts_with("bindings.DB_SERVICE: "),
        "{}",
        err.message
    );
    let err = ops
        .create_service(request("domain", "billing", Path::new("relative/billing")))
        .await
        .unwrap_err();
    assert!(err.message.starts_with("folder: "), "{}", err.message);
    let err = ops
        .create_service(request("nope", "billing", &folder))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(!folder.exists(), "nothing was made");
}

/// A user template: a manifest and its files, with placeholders.
fn write_user_template(root: &Path, name: &str, files: &[(&str, &str)]) {
    for (path, content) in files {
        let p = root.join(name).join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

const USER_WRANGLER: &str = r#"{
  "name": "{{service}}",
  "main": "src/index.ts",
  "compatibility_date": "2025-01-01",
  "dispatch_namespace": "{{namespace}}",
  "services": [
    {{bindings_jsonc}}
  ],
}
"#;

const USER_PACKAGE: &str = r#"{ "name": "{{service}}", "scripts": { "build": "node build.mjs", "test": "node --test" } }
"#;

#[tokio::test]
async fn a_user_template_is_listed_and_used() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ops = open(&data).await;
    staging(&ops).await;
    let root = ops.templates_folder();
    assert_eq!(root, data.join("templates"));
    write_user_template(
        &root,
        "queue-consumer",
        &[
            (
                "template.toml",
                "name = \"Queue consumer\"\nkind = \"integration\"\ndescription = \"Reads the queue.\"\n\n[bindings]\nQUEUE_SERVICE = \"queue\"\n",
            ),
            ("package.json", USER_PACKAGE),
            ("wrangler.jsonc", USER_WRANGLER),
            (
                "src/index.ts",
                "// {{service}} ({{kind}}) in {{environment}}\ninterface Env {\n  {{env_interface}}\n}\nexport default { fetch: () => new Response('ok') }\n// JSX keeps {{ braces }}\n",
            ),
        ],
    );
    let catalog = ops.service_templates().await.unwrap();
    assert!(catalog.problems.is_empty(), "{:#?}", catalog.problems);
    assert_eq!(catalog.folder, root.display().to_string());
    let t = catalog
        .templates
        .iter()
        .find(|t| t.id == "user/queue-consumer")
        .expect("the user template is listed");
    assert_eq!(t.name, "Queue consumer");
    assert_eq!(t.kind, ServiceKind::Integration);
    assert_eq!(t.bindings, bindings(&[("QUEUE_SERVICE", "queue")]));
    assert_eq!(
        t.origin,
        TemplateOrigin::User {
            path: root.join("queue-consumer").display().to_string()
        }
    );
    assert_eq!(t.files, ["package.json", "src/index.ts", "wrangler.jsonc"]);
    assert_eq!(catalog.templates.len(), 4, "beside the three built-ins");

    let folder = tmp.path().join("consumer");
    let mut req = request("user/queue-consumer", "consumer", &folder);
    req.bindings = bindings(&[("QUEUE_SERVICE", "queue")]);
    ops.create_service(req).await.unwrap();
    assert_eq!(
        tree(&folder),
        ["package.json", "src", "src/index.ts", "wrangler.jsonc"],
        "the template's files, not the manifest"
    );
    let wrangler = jsonc(&read(&folder, "wrangler.jsonc"));
    assert_eq!(wrangler["name"], "consumer");
    assert_eq!(wrangler["dispatch_namespace"], "acme-staging");
    assert_eq!(
        wrangler["services"],
        serde_json::json!([{ "binding": "QUEUE_SERVICE", "service": "queue" }])
    );
    assert_eq!(
        read(&folder, "src/index.ts"),
        "// consumer (integration) in staging\ninterface Env {\n  QUEUE_SERVICE: Fetcher // the queue service\n}\nexport default { fetch: () => new Response('ok') }\n// JSX keeps {{ braces }}\n"
    );
}

#[tokio::test]
async fn a_broken_user_template_is_listed_with_its_problems_and_hides_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = open(&tmp.path().join("data")).await;
    staging(&ops).await;
    let root = ops.templates_folder();
    // Bad TOML on line 2.
    write_user_template(
        &root,
        "bad-manifest",
        &[
            ("template.toml", "name = \"Bad\"\nkind = domain\n"),
            ("package.json", USER_PACKAGE),
            ("wrangler.jsonc", USER_WRANGLER),
        ],
    );
    // A kind the runbook does not have, an unknown placeholder on line 3, a wrangler.jsonc
    // with a hard-coded namespace, no package.json, a dist/ folder.
    write_user_template(
        &root,
        "many-mistakes",
        &[
            (
                "template.toml",
                "name = \"Many\"\nkind = \"domain\"\ndescription = \"x\"\n",
            ),
            (
                "wrangler.jsonc",
                "{\n  \"name\": \"{{service}}\",\n  \"dispatch_namespace\": \"dotdo-production\",\n  \"services\": [{{bindings_jsonc}}]\n}\n",
            ),
            ("src/index.ts", "// a\n// b\nconst name = '{{servce}}'\n"),
            ("dist/index.js", "built"),
        ],
    );
    write_user_template(
        &root,
        "wrong-kind",
        &[
            (
                "template.toml",
                "name = \"W\"\nkind = \"batch\"\ndescription = \"x\"\n",
            ),
            ("package.json", USER_PACKAGE),
            ("wrangler.jsonc", USER_WRANGLER),
        ],
    );
    // Not JSONC once rendered (line 3).
    write_user_template(
        &root,
        "bad-jsonc",
        &[
            (
                "template.toml",
                "name = \"J\"\nkind = \"ai\"\ndescription = \"x\"\n",
            ),
            ("package.json", USER_PACKAGE),
            (
                "wrangler.jsonc",
                "{\n  \"name\": \"{{service}}\",\n  \"dispatch_namespace\": {{namespace}},\n}\n",
            ),
        ],
    );

    let catalog = ops.service_templates().await.unwrap();
    let ids: Vec<_> = catalog.templates.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["domain", "integration", "ai"], "the built-ins stay");
    let problem = |id: &str| {
        catalog
            .problems
            .iter()
            .find(|p| p.template_id == id)
            .unwrap_or_else(|| panic!("{id} is listed: {:#?}", catalog.problems))
    };
    assert_eq!(catalog.problems.len(), 4);

    let bad = problem("user/bad-manifest");
    assert_eq!(bad.folder, root.join("bad-manifest").display().to_string());
    assert_eq!(bad.errors.len(), 1, "{:#?}", bad.errors);
    assert_eq!(
        (bad.errors[0].file.as_str(), bad.errors[0].line),
        ("template.toml", 2)
    );

    let many = problem("user/many-mistakes");
    let has = |file: &str, line: u32, words: &str| {
        assert!(
            many.errors
                .iter()
                .any(|e| e.file == file && e.line == line && e.message.contains(words)),
            "{file} line {line} '{words}' in {:#?}",
            many.errors
        );
    };
    has("src/index.ts", 3, "unknown placeholder {{servce}}");
    has("wrangler.jsonc", 3, "dispatch_namespace");
    has("package.json", 0, "missing");
    has("dist/", 0, "does not ship dist/");

    let kind = problem("user/wrong-kind");
    assert_eq!(kind.errors[0].file, "template.toml");
    assert_eq!(kind.errors[0].line, 2);
    assert!(
        kind.errors[0].message.contains("batch"),
        "{:#?}",
        kind.errors
    );

    let jsonc_problem = problem("user/bad-jsonc");
    assert_eq!(jsonc_problem.errors[0].file, "wrangler.jsonc");
    assert_eq!(
        jsonc_problem.errors[0].line, 3,
        "{:#?}",
        jsonc_problem.errors
    );

    // A broken template cannot be used; a built-in still can.
    let err = ops
        .create_service(request(
            "user/many-mistakes",
            "billing",
            &tmp.path().join("billing"),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("mistake"), "{}", err.message);
    assert!(!tmp.path().join("billing").exists());
    ops.create_service(request("domain", "billing", &tmp.path().join("billing")))
        .await
        .unwrap();
}
