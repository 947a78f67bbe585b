//! Step: the storage the generated objects rely on exists and may be used. Stash: the storage
//! Secret of each Repository, in its namespace. KubeStash: each backend's BackupStorage and
//! RetentionPolicy, their usage policies for the BackupConfiguration's namespace, and the
//! retention guardrails.

use super::{Context, Findings, namespace};
use crate::blueprint::kubestash::usage::{AllowedNamespaces, Usage};
use crate::blueprint::kubestash::{BACKUP_STORAGE_KIND, ObjectName, RETENTION_POLICY_KIND, StorageUse};
use crate::blueprint::objects::{Generated, Storage};
use crate::lookups::{Answer, LookupError};
use crate::report::{Problem, shorten};
use crate::settings::Check;
use crate::support::json_fields::at;

pub fn check(context: &Context, generated: &[Generated], findings: &mut Findings) {
    // At most MAX_BLUEPRINTS Secrets: a list costs less in policy.wasm than a set.
    let mut checked = Vec::new();
    for one in generated {
        match &one.storage {
            Storage::Secret { namespace, name } => {
                if context.settings.storage_secret_check == Check::Skip || checked.contains(&(namespace, name)) {
                    continue;
                }
                checked.push((namespace, name));
                check_secret(context, &one.blueprint, namespace, name, findings);
            }
            Storage::KubeStash(storage) => check_kubestash(context, &one.blueprint, storage, findings),
        }
    }
}

fn check_secret(context: &Context, blueprint: &str, namespace: &str, name: &str, findings: &mut Findings) {
    match context.lookups.secret_exists(namespace, name) {
        Ok(()) => {}
        Err(LookupError::NotFound) => findings.checked(
            context.settings.storage_secret_check,
            Problem::blueprint_field(
                blueprint,
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

/// KubeStash's storage objects, each looked up once: with `storageSecretCheck` they must exist
/// and allow the BackupConfiguration's namespace; with `guardrails.minimumRetention` each
/// backend's RetentionPolicy must keep enough.
fn check_kubestash(context: &Context, blueprint: &str, storage: &StorageUse, findings: &mut Findings) {
    let check = context.settings.storage_secret_check;
    let guardrails = &context.settings.guardrails;
    if findings.has_problems() || (check == Check::Skip && !guardrails.requires_retention()) {
        return;
    }
    let mut seen: Vec<(&str, &ObjectName)> = Vec::new();
    for backend in &storage.backends {
        if let Some(reference) = backend.storage.as_ref().filter(|_| check != Check::Skip)
            && !seen.contains(&(BACKUP_STORAGE_KIND, reference))
        {
            seen.push((BACKUP_STORAGE_KIND, reference));
            let answer = context.lookups.backup_storage(&reference.namespace, &reference.name);
            let path = format!("{}.storageRef", backend.path);
            usable(
                context,
                blueprint,
                &path,
                BACKUP_STORAGE_KIND,
                reference,
                storage,
                answer,
                findings,
            );
        }
        let path = format!("{}.retentionPolicy", backend.path);
        let Some(reference) = &backend.retention else {
            if guardrails.requires_retention() {
                findings.problem(Problem::blueprint_field(
                    blueprint,
                    path,
                    format!(
                        "is not set, so KubeStash uses the namespace's default RetentionPolicy, which this policy cannot \
                         check against guardrails.minimumRetention ({}); name a RetentionPolicy",
                        guardrails.required_retention()
                    ),
                ));
            }
            continue;
        };
        let answer = context.lookups.retention_policy(&reference.namespace, &reference.name);
        let first = !seen.contains(&(RETENTION_POLICY_KIND, reference));
        if first && check != Check::Skip {
            seen.push((RETENTION_POLICY_KIND, reference));
            usable(
                context,
                blueprint,
                &path,
                RETENTION_POLICY_KIND,
                reference,
                storage,
                answer.clone(),
                findings,
            );
        }
        if let Ok(policy) = answer {
            for (field, why) in guardrails.snapshot_problems(at(&policy, &["spec", "successfulSnapshots"])) {
                findings.problem(Problem::blueprint_field(
                    blueprint,
                    &path,
                    format!("RetentionPolicy '{reference}' {field}: {why}; name a RetentionPolicy that keeps more"),
                ));
            }
        } else if first && check == Check::Skip && guardrails.requires_retention() {
            let why = match answer {
                Err(LookupError::Failed(why)) => why,
                _ => "not found".to_string(),
            };
            findings.lookup_failed(format!("RetentionPolicy '{reference}'"), &why);
        }
    }
}

/// A BackupStorage or RetentionPolicy found (and its usage policy allowing the
/// BackupConfiguration's namespace), or the problem.
#[allow(clippy::too_many_arguments)]
fn usable(
    context: &Context,
    blueprint: &str,
    path: &str,
    kind: &str,
    reference: &ObjectName,
    storage: &StorageUse,
    answer: Answer,
    findings: &mut Findings,
) {
    let check = context.settings.storage_secret_check;
    let object = match answer {
        Ok(object) => object,
        Err(LookupError::NotFound) => {
            findings.checked(
                check,
                Problem::blueprint_field(
                    blueprint,
                    path,
                    format!(
                        "{kind} '{reference}' not found; create it, or name one that exists (KubeStash would create the \
                         BackupConfiguration and its backend would never be ready)"
                    ),
                ),
            );
            return;
        }
        Err(LookupError::Failed(why)) => {
            findings.lookup_failed(format!("{kind} '{reference}'"), &why);
            return;
        }
    };
    let usage = AllowedNamespaces::of(&object).map(|policy| {
        policy.decide(&reference.namespace, &storage.namespace, || {
            namespace::labels_of(context, &storage.namespace)
        })
    });
    match usage {
        Ok(Usage::Allowed) => {}
        Ok(Usage::Denied(what)) => findings.checked(
            check,
            Problem::blueprint_field(
                blueprint,
                path,
                format!(
                    "{kind} '{reference}' may not be used from namespace '{}', where the BackupConfiguration goes: its \
                     usagePolicy {what}, and KubeStash refuses the BackupConfiguration; name another {kind}, or ask its \
                     owner to allow the namespace",
                    shorten(&storage.namespace)
                ),
            ),
        ),
        Ok(Usage::Unknown(why)) => findings.lookup_failed(format!("Namespace '{}'", storage.namespace), &why),
        Err(why) => findings.checked(
            check,
            Problem::blueprint_field(blueprint, path, format!("{kind} '{reference}' has an invalid usagePolicy: {why}")),
        ),
    }
}
