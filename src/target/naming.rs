//! Names of the generated objects and the Kubernetes name rules they must follow.

use crate::target::Target;

/// Kubernetes label and Stash's generated-name limit.
pub const MAX_NAME_LENGTH: usize = 63;
const MAX_SUBDOMAIN_LENGTH: usize = 253;

/// Where the Repository and the BackupConfiguration of one blueprint go, and their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNames {
    pub repository_name: String,
    pub repository_namespace: String,
    pub backup_configuration_name: String,
    pub backup_configuration_namespace: String,
    /// Names that were cut to 63 characters: (the uncut name, the name used).
    pub truncated: Vec<(String, String)>,
}

/// Names the objects generated for `target` from `blueprint`. `bc_namespace` and
/// `repo_namespace` are the resolved namespaces; `several_blueprints` adds the blueprint name.
pub fn object_names(
    target: &Target,
    blueprint: &str,
    several_blueprints: bool,
    bc_namespace: &str,
    repo_namespace: &str,
) -> ObjectNames {
    let mut truncated = Vec::new();
    let base = cut(&format!("{}-{}", target.short_kind(), target.name), &mut truncated);
    let mut name_in = |namespace: &str| {
        let mut name = match namespace == target.namespace {
            true => base.clone(),
            false => cut(&format!("{}-{base}", target.namespace), &mut truncated),
        };
        if several_blueprints {
            name = cut(&format!("{name}-{blueprint}"), &mut truncated);
        }
        name
    };
    let repository_name = name_in(repo_namespace);
    let backup_configuration_name = name_in(bc_namespace);
    truncated.dedup();
    ObjectNames {
        repository_name,
        repository_namespace: repo_namespace.to_string(),
        backup_configuration_name,
        backup_configuration_namespace: bc_namespace.to_string(),
        truncated,
    }
}

/// Cuts `name` to 63 characters, then trims leading and trailing `-` (Stash's rule).
fn cut(name: &str, truncated: &mut Vec<(String, String)>) -> String {
    let end = name
        .char_indices()
        .nth(MAX_NAME_LENGTH)
        .map_or(name.len(), |(index, _)| index);
    let result = name[..end].trim_matches('-').to_string();
    if end < name.len() {
        truncated.push((name.to_string(), result.clone()));
    }
    result
}

/// A DNS-1123 label: what Kubernetes requires of namespaces and of these generated names.
pub fn is_dns1123_label(name: &str) -> bool {
    name.len() <= MAX_NAME_LENGTH && is_label_shaped(name)
}

/// A DNS-1123 subdomain: what Kubernetes requires of most object names.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= MAX_SUBDOMAIN_LENGTH && name.split('.').all(is_label_shaped)
}

fn is_label_shaped(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alphanumeric(first) && alphanumeric(last) && bytes.iter().all(|b| alphanumeric(b) || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Target, classify};

    fn target(api_version: &str, kind: &str, name: &str, namespace: &str) -> Target {
        Target::new(
            classify(api_version, kind).unwrap(),
            api_version,
            kind,
            name,
            namespace,
            None,
            None,
        )
    }

    fn names(t: &Target, several: bool, bc_ns: &str, repo_ns: &str) -> (String, String, String, String) {
        let n = object_names(t, "bp", several, bc_ns, repo_ns);
        (
            n.repository_namespace,
            n.repository_name,
            n.backup_configuration_namespace,
            n.backup_configuration_name,
        )
    }

    fn own(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
        (a.into(), b.into(), c.into(), d.into())
    }

    #[test]
    fn naming_rules() {
        let deploy = target("apps/v1", "Deployment", "stash-demo", "demo");
        assert_eq!(
            names(&deploy, false, "demo", "demo"),
            own("demo", "deploy-stash-demo", "demo", "deploy-stash-demo")
        );
        assert_eq!(
            names(&deploy, false, "demo", "backup"),
            own("backup", "demo-deploy-stash-demo", "demo", "deploy-stash-demo")
        );
        assert_eq!(
            names(&deploy, true, "demo", "backup"),
            own("backup", "demo-deploy-stash-demo-bp", "demo", "deploy-stash-demo-bp")
        );
        let db = target("kubedb.com/v1alpha2", "MySQL", "sample-mysql-1", "prod-1");
        assert_eq!(
            names(&db, false, "backup", "backup"),
            own(
                "backup",
                "prod-1-app-sample-mysql-1",
                "backup",
                "prod-1-app-sample-mysql-1"
            )
        );
    }

    #[test]
    fn long_names_are_cut_then_trimmed() {
        // 57 characters of name: "deploy-" + 56 = 63, the cut at 63 leaves a trailing '-'.
        let name = format!("{}-{}", "a".repeat(55), "b".repeat(10));
        let t = target("apps/v1", "Deployment", &name, "demo");
        let n = object_names(&t, "bp", false, "demo", "demo");
        assert_eq!(n.repository_name, format!("deploy-{}", "a".repeat(55)));
        assert_eq!(
            n.truncated,
            [(format!("deploy-{name}"), format!("deploy-{}", "a".repeat(55)))]
        );
        assert!(is_dns1123_label(&n.repository_name));
    }

    #[test]
    fn short_names_are_not_reported_as_truncated() {
        let t = target("v1", "PersistentVolumeClaim", "nfs-pvc", "demo");
        let n = object_names(&t, "bp", false, "demo", "demo");
        assert_eq!(n.repository_name, "pvc-nfs-pvc");
        assert!(n.truncated.is_empty());
    }

    #[test]
    fn dns1123_rules() {
        for ok in ["a", "a-b", "0a", "a".repeat(63).as_str()] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", "a".repeat(64).as_str(), "é"] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
        assert!(is_dns1123_subdomain("a.b-c.d"));
        for bad in ["a..b", ".a", "a.", "A.b"] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
    }
}
