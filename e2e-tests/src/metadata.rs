//! The policy's `metadata.yml`: the `contextAwareResources` allow-list and the
//! `hostCapabilities` patterns policy-server enforces on host calls.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// One `{apiVersion, kind}` entry of `contextAwareResources` (kinds are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    pub api_version: String,
    pub kind: String,
}

/// What a policy has been granted: Kubernetes resources, and host capabilities
/// (`<namespace>/<operation>` patterns: `*`, `oci/*`, `kubernetes/get_resource`; `None` when
/// the metadata does not restrict them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    resources: Vec<ContextAwareResource>,
    capabilities: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    context_aware_resources: Vec<ContextAwareResource>,
    #[serde(default)]
    host_capabilities: Option<Vec<String>>,
    #[serde(default)]
    rules: Vec<Rule>,
}

/// One webhook rule of the metadata: the requests the API server sends the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub api_versions: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub operations: Vec<String>,
}

impl Rule {
    /// True when a request for `group/version` `resource` with `operation` matches (`*` matches
    /// anything).
    pub fn matches(&self, group: &str, version: &str, resource: &str, operation: &str) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|item| item == "*" || item == value);
        any(&self.api_groups, group)
            && any(&self.api_versions, version)
            && any(&self.resources, resource)
            && any(&self.operations, operation)
    }
}

/// Reads the `rules` of a metadata.yml file.
pub fn read_rules(path: &Path) -> Result<Vec<Rule>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read policy metadata {}", path.display()))?;
    let metadata: Metadata = serde_json::from_value(crate::inputs::parse_document(&text)?)
        .with_context(|| format!("malformed policy metadata {}", path.display()))?;
    Ok(metadata.rules)
}

impl AllowList {
    /// An allow-list holding exactly these resources, every host capability allowed.
    pub fn new(resources: Vec<ContextAwareResource>) -> Self {
        Self {
            resources,
            capabilities: None,
        }
    }

    /// Restricts the host capabilities to these patterns.
    pub fn with_capabilities(mut self, patterns: Vec<String>) -> Self {
        self.capabilities = Some(patterns);
        self
    }

    /// Reads `contextAwareResources` from a metadata.yml file.
    pub fn from_metadata_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read policy metadata {}", path.display()))?;
        Self::from_metadata_yaml(&text).with_context(|| format!("malformed policy metadata {}", path.display()))
    }

    /// Reads `contextAwareResources` from the text of a metadata.yml.
    pub fn from_metadata_yaml(text: &str) -> Result<Self> {
        let metadata: Metadata = serde_json::from_value(crate::inputs::parse_document(text)?)?;
        for pattern in metadata.host_capabilities.iter().flatten() {
            check_pattern(pattern)?;
        }
        Ok(Self {
            resources: metadata.context_aware_resources,
            capabilities: metadata.host_capabilities,
        })
    }

    /// True when the policy may read `api_version`/`kind`.
    pub fn allows(&self, api_version: &str, kind: &str) -> bool {
        self.resources
            .iter()
            .any(|r| r.api_version == api_version && r.kind == kind)
    }

    /// True when the policy may use the host capability `<namespace>/<operation>`.
    pub fn allows_capability(&self, capability: &str) -> bool {
        let Some(patterns) = &self.capabilities else {
            return true;
        };
        patterns
            .iter()
            .map(|p| p.trim())
            .any(|pattern| match pattern.strip_suffix('*') {
                Some("") => true,
                Some(prefix) => capability.starts_with(prefix),
                None => pattern == capability,
            })
    }

    /// The resources of the list.
    pub fn resources(&self) -> &[ContextAwareResource] {
        &self.resources
    }
}

/// policy-evaluator's pattern rules: not empty; a `*` only as the whole pattern or as the whole
/// last segment.
fn check_pattern(pattern: &str) -> anyhow::Result<()> {
    let trimmed = pattern.trim();
    if trimmed.is_empty() {
        anyhow::bail!("hostCapabilities: empty pattern");
    }
    if let Some(pos) = trimmed.find('*')
        && trimmed != "*"
        && (pos != trimmed.len() - 1 || !trimmed[..pos].ends_with('/'))
    {
        anyhow::bail!("hostCapabilities: invalid wildcard in '{pattern}': use '*' or '<prefix>/*'");
    }
    Ok(())
}

/// policy-server's error for a request outside the allow-list.
pub fn access_denied_message(api_version: &str, kind: &str) -> String {
    format!(
        "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. The violation has been reported."
    )
}

/// policy-server's error for a host capability the policy was not granted.
pub fn capability_denied_message(capability: &str) -> String {
    format!(
        "Policy has not been granted access to the '{capability}' host capability. The violation has been reported."
    )
}

/// Where policy-run looks for metadata.yml when `--metadata` is not given: beside the policy
/// file, then in the current directory.
pub fn default_metadata_path(policy: &Path) -> Option<PathBuf> {
    let beside = policy.parent().map(|dir| dir.join("metadata.yml"));
    beside
        .into_iter()
        .chain(std::iter::once(PathBuf::from("metadata.yml")))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = r#"
rules:
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  resources: ["deployments"]
  operations: ["CREATE", "UPDATE"]
mutating: true
contextAwareResources:
- apiVersion: stash.appscode.com/v1beta1
  kind: BackupBlueprint
- apiVersion: v1
  kind: Secret
annotations:
  io.kubewarden.policy.title: backup-blueprint-policy
"#;

    #[test]
    fn reads_context_aware_resources() {
        let list = AllowList::from_metadata_yaml(METADATA).unwrap();
        assert!(list.allows("v1", "Secret"));
        assert!(list.allows("stash.appscode.com/v1beta1", "BackupBlueprint"));
        assert!(!list.allows("v1", "secret"), "kinds are case-sensitive");
        assert!(!list.allows("v1", "ConfigMap"));
    }

    #[test]
    fn host_capability_patterns() {
        let list = AllowList::default().with_capabilities(vec!["kubernetes/get_resource".into(), "oci/*".into()]);
        assert!(list.allows_capability("kubernetes/get_resource"));
        assert!(list.allows_capability("oci/v1/verify"));
        assert!(!list.allows_capability("kubernetes/list_resources_all"));
        assert!(AllowList::default().allows_capability("net/v1/dns_lookup_host"));
        assert!(
            AllowList::default()
                .with_capabilities(vec!["*".into()])
                .allows_capability("kubernetes/can_i")
        );
        assert!(
            !AllowList::default()
                .with_capabilities(vec![])
                .allows_capability("kubernetes/can_i")
        );
        let from_yaml = AllowList::from_metadata_yaml("hostCapabilities: [kubernetes/get_resource]\n").unwrap();
        assert!(!from_yaml.allows_capability("kubernetes/can_i"));
        assert!(AllowList::from_metadata_yaml("hostCapabilities: ['oci*']\n").is_err());
        assert_eq!(
            capability_denied_message("kubernetes/can_i"),
            "Policy has not been granted access to the 'kubernetes/can_i' host capability. The violation has been reported."
        );
    }

    #[test]
    fn rules_match_group_version_resource_and_operation() {
        let metadata: Metadata = serde_json::from_value(crate::inputs::parse_document(METADATA).unwrap()).unwrap();
        let rule = &metadata.rules[0];
        assert!(rule.matches("apps", "v1", "deployments", "CREATE"));
        assert!(!rule.matches("apps", "v1", "deployments", "DELETE"));
        assert!(!rule.matches("", "v1", "deployments", "CREATE"));
        assert!(!rule.matches("apps", "v1", "statefulsets", "UPDATE"));
        let wildcard = Rule {
            api_groups: vec!["*".into()],
            api_versions: vec!["*".into()],
            resources: vec!["*".into()],
            operations: vec!["*".into()],
        };
        assert!(wildcard.matches("x", "y", "z", "CONNECT"));
    }

    #[test]
    fn metadata_without_the_section_allows_nothing() {
        let list = AllowList::from_metadata_yaml("mutating: false\n").unwrap();
        assert!(list.resources().is_empty());
    }

    #[test]
    fn denial_text_is_policy_servers() {
        assert_eq!(
            access_denied_message("v1", "ConfigMap"),
            "Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported."
        );
    }
}
