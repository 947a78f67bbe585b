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
    Ok(PolicyMetadata::from_file(path)?.rules)
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
        Ok(PolicyMetadata::from_file(path)?.allow_list)
    }

    /// Reads `contextAwareResources` from the text of a metadata.yml.
    pub fn from_metadata_yaml(text: &str) -> Result<Self> {
        Ok(PolicyMetadata::from_text(text)?.allow_list)
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

/// What the policy's metadata says, as policy-run uses it: the allow-list, and the rules that
/// choose the objects of a preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyMetadata {
    pub allow_list: AllowList,
    pub rules: Vec<Rule>,
}

impl PolicyMetadata {
    /// Reads the text of a metadata.yml (YAML) or of embedded metadata (JSON).
    pub fn from_text(text: &str) -> Result<Self> {
        let metadata: Metadata = serde_json::from_value(crate::inputs::parse_document(text)?)?;
        for pattern in metadata.host_capabilities.iter().flatten() {
            check_pattern(pattern)?;
        }
        Ok(Self {
            allow_list: AllowList {
                resources: metadata.context_aware_resources,
                capabilities: metadata.host_capabilities,
            },
            rules: metadata.rules,
        })
    }

    /// Reads a metadata.yml file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read policy metadata {}", path.display()))?;
        Self::from_text(&text).with_context(|| format!("malformed policy metadata {}", path.display()))
    }

    /// The metadata `kwctl annotate` embedded into the policy `wasm` (the custom section
    /// [`EMBEDDED_METADATA_SECTION`], JSON), as policy-evaluator's `Metadata::from_path` reads
    /// it; `None` for a policy that is not annotated.
    pub fn embedded(wasm: &[u8]) -> Result<Option<Self>> {
        let Some(section) = custom_section(wasm, EMBEDDED_METADATA_SECTION)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(section)
            .map_err(|e| anyhow::anyhow!("the metadata is not UTF-8: {e}"))
            .and_then(Self::from_text)
            .with_context(|| format!("malformed metadata in the policy's {EMBEDDED_METADATA_SECTION} section"))?;
        Ok(Some(text))
    }
}

/// The custom section `kwctl annotate` writes the policy's metadata into (policy-evaluator's
/// `KUBEWARDEN_CUSTOM_SECTION_METADATA`).
pub const EMBEDDED_METADATA_SECTION: &str = "io.kubewarden.metadata";

/// The payload of the first custom section named `name` of a WebAssembly binary module;
/// `None` when there is none (or `wasm` is not a module: wasmtime says why).
pub fn custom_section<'a>(wasm: &'a [u8], name: &str) -> Result<Option<&'a [u8]>> {
    let Some(mut rest) = wasm.strip_prefix(crate::engine::WASM_MAGIC) else {
        return Ok(None);
    };
    rest = rest.get(4..).context("truncated WebAssembly module: no version")?;
    while let Some((&id, after_id)) = rest.split_first() {
        let (size, after_size) = leb128_u32(after_id)?;
        let size = size as usize;
        let (section, after) = (after_size.get(..size), after_size.get(size..));
        let (Some(section), Some(after)) = (section, after) else {
            anyhow::bail!("truncated WebAssembly module: a section of {size} bytes ends past the end of the file");
        };
        if id == 0 {
            let (length, after_length) = leb128_u32(section)?;
            let section_name = after_length
                .get(..length as usize)
                .context("truncated WebAssembly module: a custom section's name")?;
            if section_name == name.as_bytes() {
                return Ok(Some(&after_length[length as usize..]));
            }
        }
        rest = after;
    }
    Ok(None)
}

/// An unsigned LEB128 number (at most 5 bytes, as the wasm binary format's `u32`), and the
/// bytes after it.
fn leb128_u32(bytes: &[u8]) -> Result<(u32, &[u8])> {
    let mut value: u64 = 0;
    for (index, &byte) in bytes.iter().enumerate().take(5) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            let value = u32::try_from(value).context("malformed WebAssembly module: a size over 4 GiB")?;
            return Ok((value, &bytes[index + 1..]));
        }
    }
    anyhow::bail!("malformed WebAssembly module: a truncated or overlong size")
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

    /// A module with these custom sections (name, payload).
    fn module_with(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // An empty type section first, as a real module has sections before its custom ones.
        wasm.extend_from_slice(&[1, 1, 0]);
        for (name, payload) in sections {
            let mut section = vec![name.len() as u8];
            section.extend_from_slice(name.as_bytes());
            section.extend_from_slice(payload);
            wasm.push(0);
            // The size as a two-byte LEB128, as some tools write it.
            wasm.extend_from_slice(&[(section.len() as u8 & 0x7f) | 0x80, (section.len() >> 7) as u8]);
            wasm.extend_from_slice(&section);
        }
        wasm
    }

    #[test]
    fn reads_the_metadata_kwctl_annotate_embeds() {
        let json = br#"{"protocolVersion":"v1","rules":[{"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"],"operations":["CREATE"]}],"contextAwareResources":[{"apiVersion":"v1","kind":"Secret"}],"mutating":true}"#;
        let wasm = module_with(&[("producers", b"\0"), (EMBEDDED_METADATA_SECTION, json)]);
        assert_eq!(custom_section(&wasm, "producers").unwrap(), Some(&b"\0"[..]));
        let metadata = PolicyMetadata::embedded(&wasm).unwrap().unwrap();
        assert!(metadata.allow_list.allows("v1", "Secret"));
        assert!(metadata.rules[0].matches("apps", "v1", "deployments", "CREATE"));
        assert_eq!(
            PolicyMetadata::embedded(&module_with(&[("producers", b"")])).unwrap(),
            None
        );
        assert_eq!(PolicyMetadata::embedded(b"not wasm").unwrap(), None);
        let broken = module_with(&[(EMBEDDED_METADATA_SECTION, b"{\"rules\": 1}")]);
        assert!(
            format!("{:#}", PolicyMetadata::embedded(&broken).unwrap_err())
                .starts_with("malformed metadata in the policy's io.kubewarden.metadata section: ")
        );
        let mut truncated = module_with(&[(EMBEDDED_METADATA_SECTION, json)]);
        truncated.truncate(truncated.len() - 1);
        assert_eq!(
            custom_section(&truncated, "x").unwrap_err().to_string(),
            format!(
                "truncated WebAssembly module: a section of {} bytes ends past the end of the file",
                json.len() + 1 + EMBEDDED_METADATA_SECTION.len()
            )
        );
    }

    #[test]
    fn denial_text_is_policy_servers() {
        assert_eq!(
            access_denied_message("v1", "ConfigMap"),
            "Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported."
        );
    }
}
