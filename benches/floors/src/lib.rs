//! Floor policies for `make bench`, written the way a typical Rust Kubewarden policy is, with
//! the SDK: (1) decode the request and accept; (2, feature `lookups`) decode, make the two
//! lookups an annotated Deployment costs this policy (its BackupBlueprint and its Secret), and
//! write one annotation; (3, feature `collision-lookups`) the same, with the two lookups more
//! that the policy's collision check makes on a CREATE: the Repository and the
//! BackupConfiguration it would generate, which usually do not exist (policy-server does not
//! cache a not-found answer, so each is an API request). The policy's own time is compared with
//! these in the same run.

#[cfg(not(feature = "lookups"))]
use kubewarden_policy_sdk::accept_request;
use kubewarden_policy_sdk::request::ValidationRequest;
use kubewarden_policy_sdk::settings::Validatable;
use kubewarden_policy_sdk::wapc_guest as guest;
use kubewarden_policy_sdk::{protocol_version_guest, validate_settings};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default, Debug)]
struct Settings {}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings::<Settings>);
    guest::register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> guest::CallResult {
    let request: ValidationRequest<Settings> = ValidationRequest::new(payload)?;
    #[cfg(feature = "lookups")]
    return lookups::validate(request);
    #[cfg(not(feature = "lookups"))]
    {
        drop(request);
        accept_request()
    }
}

#[cfg(feature = "lookups")]
mod lookups {
    use std::collections::BTreeSet;

    use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, get_resource};
    use kubewarden_policy_sdk::request::ValidationRequest;
    use kubewarden_policy_sdk::wapc_guest as guest;
    use kubewarden_policy_sdk::{accept_request, mutate_request};
    use serde_json::Value;

    use super::Settings;

    const BLUEPRINT: &str = "stash.appscode.com/backup-blueprint";

    pub fn validate(request: ValidationRequest<Settings>) -> guest::CallResult {
        let mut object = request.request.object;
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let Some(name) = object["metadata"]["annotations"][BLUEPRINT]
            .as_str()
            .map(str::to_string)
        else {
            return accept_request();
        };
        let blueprint: Value = get_resource(&GetResourceRequest {
            api_version: "stash.appscode.com/v1beta1".into(),
            kind: "BackupBlueprint".into(),
            name,
            namespace: None,
            disable_cache: false,
            field_masks: None,
        })?;
        let secret = blueprint["spec"]["backend"]["storageSecretName"]
            .as_str()
            .unwrap_or_default();
        let _: Value = get_resource(&GetResourceRequest {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: secret.into(),
            namespace: Some(namespace),
            disable_cache: false,
            field_masks: Some(BTreeSet::from(["metadata.name".to_string()])),
        })?;
        #[cfg(feature = "collision-lookups")]
        super::collisions::lookups(&object)?;
        let resolved = serde_json::to_string(&blueprint["spec"])?;
        object["metadata"]["annotations"]["autobackup.kubewarden.io/resolved"] = Value::String(resolved);
        mutate_request(object)
    }
}

/// The policy's collision lookups for an annotated Deployment on CREATE, as it makes them
/// (src/evaluation/collisions.rs, src/lookups/once.rs and src/lookups/host.rs): a
/// `get_resource` of the Repository and of the BackupConfiguration it would generate, named
/// `deploy-<name>` in the Deployment's namespace (the blueprint of the bench places
/// nothing elsewhere), only their annotations asked for, the cache not disabled. Not found is
/// the expected answer; any other failure fails the evaluation.
#[cfg(feature = "collision-lookups")]
mod collisions {
    use std::collections::BTreeSet;

    use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, get_resource};
    use serde_json::Value;

    const GENERATED: [(&str, &str); 2] = [
        ("stash.appscode.com/v1alpha1", "Repository"),
        ("stash.appscode.com/v1beta1", "BackupConfiguration"),
    ];

    pub fn lookups(object: &Value) -> Result<(), kubewarden_policy_sdk::error::Error> {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = format!("deploy-{}", object["metadata"]["name"].as_str().unwrap_or_default());
        for (api_version, kind) in GENERATED {
            let found: Result<Value, _> = get_resource(&GetResourceRequest {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.clone(),
                namespace: Some(namespace.into()),
                disable_cache: false,
                field_masks: Some(BTreeSet::from(["metadata.annotations".to_string()])),
            });
            if let Err(e) = found
                && !e.to_string().contains("Cannot find ")
            {
                return Err(e);
            }
        }
        Ok(())
    }
}
