//! Cluster lookups: one small interface, the Kubewarden host implementation behind
//! it, an in-memory cluster for tests and tools, and the per-evaluation view that makes every
//! lookup at most once.

mod host;
mod memory;
mod once;

pub use host::{HostCluster, classify_host_error};
pub use memory::MemoryCluster;
pub use once::{Answer, Lookups};

use serde_json::Value;

pub const BLUEPRINT_API_VERSION: &str = "stash.appscode.com/v1beta1";
pub const BLUEPRINT_KIND: &str = "BackupBlueprint";
/// No limit on an answer (the API server's own limit, etcd's 1.5 MiB, holds).
pub const ANY_SIZE: usize = usize::MAX;
/// What the policy reads of a KubeStash storage object or Repository (field masks: a usage
/// policy, what a RetentionPolicy keeps, a Repository's references): a real one is well under
/// 1 KiB; eight of each may be read for one target.
pub const MAX_STORAGE_ANSWER: usize = 64 * 1024;
/// What the policy reads of a KubeStash BackupBlueprint (whole): a real one is a few KiB; one
/// of 1.5 MiB (etcd's limit) with thousands of sessions would take the policy past its time
/// bound to parse.
pub const MAX_KUBESTASH_BLUEPRINT_ANSWER: usize = 256 * 1024;
/// What the policy reads of a KubeStash BackupConfiguration (its annotations, at most 256 KiB
/// in Kubernetes, and its target).
pub const MAX_ANNOTATED_ANSWER: usize = 320 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    NotFound,
    /// Any other failure (API server unreachable, access not granted, bad answer).
    Failed(String),
}

/// One object to get: what Kubewarden's `kubernetes.get_resource` takes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Query<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// `None` for a cluster-scoped object.
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// The only field the policy needs, when it does not need the whole object.
    /// The fields wanted (`metadata.labels`); empty for the whole object.
    pub field_masks: &'static [&'static str],
    /// A longer answer is a lookup error, not read: what the policy needs of it is small, and
    /// each object read stays in memory until the request ends.
    pub max_answer_bytes: usize,
}

impl Query<'_> {
    /// `Kind namespace/name` or `Kind name`, for messages and recorded calls.
    pub fn label(&self) -> String {
        match self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// What the policy reads from the cluster. Every call is a `get` of one object (never a
/// list: list calls make policy-server watch and cache whole kinds).
pub trait Cluster {
    fn get(&self, query: &Query) -> Result<Value, LookupError>;
}
