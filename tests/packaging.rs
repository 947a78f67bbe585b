//! The Kubewarden packaging files agree with each other, with the cluster access the README describes and with the code.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use backup_blueprint_policy::settings;
use backup_blueprint_policy::target::{Family, classify};
use common::read_yaml;
use serde_json::{Value, json};

fn file(name: &str) -> Value {
    read_yaml(&Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
}

fn context_aware_resources() -> Value {
    json!([
        {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint"},
        {"apiVersion": "v1", "kind": "Secret"},
        {"apiVersion": "v1", "kind": "Namespace"},
        {"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository"},
        {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration"},
        {"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupBlueprint"},
        {"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupConfiguration"},
        {"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "BackupStorage"},
        {"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "RetentionPolicy"},
        {"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "Repository"},
    ])
}

fn as_set(list: &Value) -> BTreeSet<String> {
    list.as_array().expect("a list").iter().map(Value::to_string).collect()
}

/// (group, version, resource) of every rule.
fn rule_resources(rules: &Value) -> BTreeSet<(String, String, String)> {
    let mut resources = BTreeSet::new();
    for rule in rules.as_array().expect("rules") {
        assert_eq!(rule["operations"], json!(["CREATE", "UPDATE"]), "{rule}");
        for group in rule["apiGroups"].as_array().unwrap() {
            for version in rule["apiVersions"].as_array().unwrap() {
                for resource in rule["resources"].as_array().unwrap() {
                    let text = |v: &Value| v.as_str().unwrap().to_string();
                    resources.insert((text(group), text(version), text(resource)));
                }
            }
        }
    }
    resources
}

#[test]
fn metadata_follows_kubewarden_conventions() {
    let metadata = file("metadata.yml");
    assert_eq!(metadata["mutating"], true);
    assert_eq!(
        as_set(&metadata["contextAwareResources"]),
        as_set(&context_aware_resources())
    );
    assert_eq!(metadata["executionMode"], "kubewarden-wapc");
    let annotations = &metadata["annotations"];
    assert_eq!(annotations["io.kubewarden.policy.title"], "backup-blueprint");
    assert_eq!(annotations["io.kubewarden.policy.license"], "Apache-2.0");
    assert_eq!(annotations["io.kubewarden.policy.version"], env!("CARGO_PKG_VERSION"));
    for key in [
        "io.kubewarden.policy.description",
        "io.kubewarden.policy.author",
        "io.kubewarden.policy.url",
        "io.kubewarden.policy.source",
        "io.kubewarden.policy.ociUrl",
        "io.kubewarden.policy.severity",
        "io.kubewarden.policy.category",
        "io.artifacthub.displayName",
        "io.artifacthub.resources",
        "io.artifacthub.keywords",
    ] {
        assert!(annotations[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
}

#[test]
fn every_rule_names_a_target_kind_the_code_knows() {
    let rules = rule_resources(&file("metadata.yml")["rules"]);
    let kind_of = |resource: &str| match resource {
        "deployments" => "Deployment",
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        "replicasets" => "ReplicaSet",
        "replicationcontrollers" => "ReplicationController",
        "deploymentconfigs" => "DeploymentConfig",
        "persistentvolumeclaims" => "PersistentVolumeClaim",
        "appbindings" => "AppBinding",
        _ => "SomeKubeDbKind",
    };
    let mut families = BTreeSet::new();
    for (group, version, resource) in &rules {
        let api_version = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        let family = classify(&api_version, kind_of(resource));
        assert!(
            family.is_some(),
            "{api_version} {resource} is in the rules but not a target"
        );
        families.insert(format!("{family:?}"));
    }
    for family in [
        Family::Workload,
        Family::PersistentVolumeClaim,
        Family::AppBinding,
        Family::KubeDb,
    ] {
        assert!(
            families.contains(&format!("{:?}", Some(family))),
            "no rule for {family:?}"
        );
    }
}

#[test]
fn the_example_policy_matches_the_metadata() {
    let metadata = file("metadata.yml");
    let policy = file("examples/cluster-admission-policy.yaml");
    assert_eq!(policy["kind"], "ClusterAdmissionPolicy");
    assert_eq!(policy["spec"]["mutating"], true);
    assert_eq!(
        rule_resources(&policy["spec"]["rules"]),
        rule_resources(&metadata["rules"])
    );
    assert_eq!(
        as_set(&policy["spec"]["contextAwareResources"]),
        as_set(&context_aware_resources())
    );
    let settings_json = policy["spec"]["settings"].to_string();
    assert!(settings::parse(settings_json.as_bytes()).is_ok(), "{settings_json}");
}

#[test]
fn artifacthub_package_matches_the_metadata() {
    let metadata = file("metadata.yml");
    let package = file("artifacthub-pkg.yml");
    assert_eq!(
        package["version"],
        metadata["annotations"]["io.kubewarden.policy.version"]
    );
    assert_eq!(
        package["displayName"],
        metadata["annotations"]["io.artifacthub.displayName"]
    );
    assert_eq!(
        package["description"],
        metadata["annotations"]["io.kubewarden.policy.description"]
    );
    let annotations = &package["annotations"];
    assert_eq!(annotations["kubewarden/mutation"], "true");
    let listed: Value =
        serde_yaml_ng::from_str(annotations["kubewarden/contextAwareResources"].as_str().unwrap()).unwrap();
    assert_eq!(as_set(&listed), as_set(&context_aware_resources()));
    let questions: Value = serde_yaml_ng::from_str(annotations["kubewarden/questions-ui"].as_str().unwrap()).unwrap();
    assert_eq!(questions, file("questions-ui.yml"));
}

#[test]
fn questions_cover_exactly_the_implemented_settings() {
    let mut variables = BTreeSet::new();
    fn collect(questions: &Value, into: &mut BTreeSet<String>) {
        for question in questions.as_array().into_iter().flatten() {
            into.insert(question["variable"].as_str().unwrap().to_string());
            collect(&question["subquestions"], into);
            collect(&question["sequence_questions"], into);
        }
    }
    collect(&file("questions-ui.yml")["questions"], &mut variables);
    variables.remove("description");
    let expected: BTreeSet<String> = [
        "emitResolvedObjects",
        "storageSecretCheck",
        "collisionCheck",
        "onLookupError",
        "customVariables",
        "customVariables.allowed",
        "customVariables.valuePattern",
        "blueprintAccess",
        "blueprints",
        "namespaces",
        "namespaceSelector",
        "requireBackup",
        "requireBackup.kinds",
        "requireBackup.namespaces",
        "requireBackup.namespaceSelector",
        "requireBackup.allowOptOut",
        "defaultBlueprints",
        "kinds",
        "blueprint",
        "guardrails",
        "guardrails.minimumFrequency",
        "guardrails.minimumRetention",
        "kubestash",
        "kubestash.pinnedVariables",
        "kubestash.valuePattern",
    ]
    .map(String::from)
    .into();
    assert_eq!(variables, expected);
}

#[test]
fn rbac_grants_get_on_exactly_the_context_aware_resources() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rbac.yaml")).unwrap();
    let documents: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let role = documents
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(rule["verbs"], json!(["get"]), "{rule}");
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                granted.insert(format!("{}/{}", group.as_str().unwrap(), resource.as_str().unwrap()));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "stash.appscode.com/backupblueprints",
        "stash.appscode.com/repositories",
        "stash.appscode.com/backupconfigurations",
        "core.kubestash.com/backupblueprints",
        "core.kubestash.com/backupconfigurations",
        "storage.kubestash.com/backupstorages",
        "storage.kubestash.com/retentionpolicies",
        "storage.kubestash.com/repositories",
        "/secrets",
        "/namespaces",
    ]
    .map(String::from)
    .into();
    assert_eq!(granted, expected);
    let binding = documents
        .iter()
        .find(|d| d["kind"] == "ClusterRoleBinding")
        .expect("a ClusterRoleBinding");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "policy-server", "namespace": "kubewarden"}])
    );
}

/// The README (embedded in the policy) and the developer docs link only to headings and files
/// that exist: the table of contents and the cross-links cannot go stale.
#[test]
fn documentation_links_resolve() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in [
        "README.md",
        "docs/development.md",
        "docs/performance.md",
        "docs/hostile-input.md",
    ] {
        let path = root.join(doc);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
        for target in link_targets(&text) {
            let (file, anchor) = target.split_once('#').unwrap_or((target.as_str(), ""));
            if file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            let linked = match file {
                "" => path.clone(),
                relative => path.parent().unwrap().join(relative),
            };
            assert!(linked.exists(), "{doc}: the link ({target}) names a missing file");
            if !anchor.is_empty() && linked.extension().is_some_and(|e| e == "md") {
                let headings = anchors(&std::fs::read_to_string(&linked).unwrap());
                assert!(
                    headings.contains(anchor),
                    "{doc}: the link ({target}) names no heading of {}",
                    linked.display()
                );
            }
        }
    }
}

/// The targets of the Markdown links `[text](target)` of `text`, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchors of the headings of a Markdown text: lower case, punctuation dropped, spaces
/// as `-`.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let Some(title) = line.strip_prefix('#').filter(|_| !in_code) else {
            continue;
        };
        let title = title.trim_start_matches('#').trim();
        let anchor: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        found.insert(anchor);
    }
    found
}
