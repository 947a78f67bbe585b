//! Step: the storage Secret of each Repository exists in its namespace.

use super::{Context, Findings};
use crate::blueprint::objects::Generated;
use crate::lookups::LookupError;
use crate::report::Problem;
use crate::settings::Check;

pub fn check_secrets(context: &Context, generated: &[Generated], findings: &mut Findings) {
    let check = context.settings.storage_secret_check;
    if check == Check::Skip {
        return;
    }
    // At most MAX_BLUEPRINTS Secrets: a list costs less in policy.wasm than a set.
    let mut checked = Vec::new();
    for one in generated {
        let namespace = &one.names.repository_namespace;
        let name = &one.storage_secret;
        if checked.contains(&(namespace, name)) {
            continue;
        }
        checked.push((namespace, name));
        match context.lookups.secret_exists(namespace, name) {
            Ok(()) => {}
            Err(LookupError::NotFound) => findings.checked(
                check,
                Problem::blueprint_field(
                    &one.blueprint,
                    "spec.backend.storageSecretName",
                    format!(
                        "Secret '{name}' not found in namespace '{namespace}'; create it there: \
                         Secrets are namespaced and every Repository namespace needs its own copy"
                    ),
                ),
            ),
            Err(LookupError::Failed(why)) => {
                findings.lookup_failed(format!("Secret '{name}' in namespace '{namespace}'"), &why)
            }
        }
    }
}
