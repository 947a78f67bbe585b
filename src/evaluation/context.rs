//! What an evaluation works with and never changes: the target, the settings, the cluster.

use serde_json::Value;

use crate::lookups::Lookups;
use crate::settings::Settings;
use crate::target::Target;

pub struct Context<'a> {
    pub target: &'a Target,
    pub settings: &'a Settings,
    pub lookups: Lookups<'a>,
    /// The stored object of an UPDATE, whose emitted objects are known to be ours.
    pub old_object: Option<&'a Value>,
}
