//! The policy's `metadata.yml`: the `contextAwareResources` allow-list policy-server enforces
//! on the Kubernetes host capabilities.

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

/// The Kubernetes resources a policy has been granted access to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<ContextAwareResource>);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    context_aware_resources: Vec<ContextAwareResource>,
}

impl AllowList {
    /// An allow-list holding exactly these resources.
    pub fn new(resources: Vec<ContextAwareResource>) -> Self {
        Self(resources)
    }

    /// Reads `contextAwareResources` from a metadata.yml file.
    pub fn from_metadata_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read policy metadata {}", path.display()))?;
        Self::from_metadata_yaml(&text).with_context(|| format!("malformed policy metadata {}", path.display()))
    }

    /// Reads `contextAwareResources` from the text of a metadata.yml.
    pub fn from_metadata_yaml(text: &str) -> Result<Self> {
        let metadata: Metadata = serde_yaml_ng::from_str(text)?;
        Ok(Self(metadata.context_aware_resources))
    }

    /// True when the policy may read `api_version`/`kind`.
    pub fn allows(&self, api_version: &str, kind: &str) -> bool {
        self.0.iter().any(|r| r.api_version == api_version && r.kind == kind)
    }

    /// The resources of the list.
    pub fn resources(&self) -> &[ContextAwareResource] {
        &self.0
    }
}

/// policy-server's error for a request outside the allow-list.
pub fn access_denied_message(api_version: &str, kind: &str) -> String {
    format!(
        "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. The violation has been reported."
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
