//! Floor policies for `make bench`, written the way a typical Rust Kubewarden policy is, with
//! the SDK: (1) decode the request and accept; (2, feature `lookups`) decode, make the two
//! lookups an annotated Deployment costs this policy (its BackupBlueprint and its Secret), and
//! write one annotation; (3, feature `collision-lookups`) the same, with the two lookups more
//! that the policy's collision check makes on a CREATE: the Repository and the
//! BackupConfiguration it would generate, which usually do not exist (policy-server does not
//! cache a not-found answer, so each is an API request); (4, feature `kubestash-lookups`) decode,
//! the six lookups an annotated KubeStash StatefulSet costs on CREATE, one annotation. The
//! policy's own time is compared with these in the same run.

#[cfg(not(any(feature = "lookups", feature = "kubestash-lookups")))]
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
    #[cfg(feature = "kubestash-lookups")]
    return kubestash::validate(request);
    #[cfg(not(any(feature = "lookups", feature = "kubestash-lookups")))]
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

/// The policy's lookups for an annotated KubeStash StatefulSet on CREATE, as it makes them
/// (src/evaluation/kubestash.rs, storage.rs, collisions.rs): the namespaced BackupBlueprint
/// whole, the target's Namespace's labels (its usage policy is a selector), the first backend's
/// BackupStorage and RetentionPolicy with their masks, then the BackupConfiguration
/// `<namespace>-statefulset-<name>` in the blueprint's namespace and the Repository
/// `<namespace>-<name>`, which do not exist. It resolves nothing.
#[cfg(feature = "kubestash-lookups")]
mod kubestash {
    use std::collections::BTreeSet;

    use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, get_resource};
    use kubewarden_policy_sdk::request::ValidationRequest;
    use kubewarden_policy_sdk::wapc_guest as guest;
    use kubewarden_policy_sdk::{accept_request, mutate_request};
    use serde_json::Value;

    use super::Settings;

    fn get(api_version: &str, kind: &str, namespace: Option<&str>, name: &str, masks: &[&str]) -> GetResourceRequest {
        GetResourceRequest {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(str::to_string),
            disable_cache: false,
            field_masks: (!masks.is_empty()).then(|| masks.iter().map(|m| m.to_string()).collect::<BTreeSet<_>>()),
        }
    }

    fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
        value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
    }

    pub fn validate(request: ValidationRequest<Settings>) -> guest::CallResult {
        let mut object = request.request.object;
        let annotations = &object["metadata"]["annotations"];
        let (blueprint_name, blueprint_namespace) = (
            text(annotations, "/blueprint.kubestash.com~1name").to_string(),
            text(annotations, "/blueprint.kubestash.com~1namespace").to_string(),
        );
        if blueprint_name.is_empty() {
            return accept_request();
        }
        let namespace = text(&object, "/metadata/namespace").to_string();
        let name = text(&object, "/metadata/name").to_string();
        let core = "core.kubestash.com/v1alpha1";
        let storage = "storage.kubestash.com/v1alpha1";
        let blueprint: Value = get_resource(&get(
            core,
            "BackupBlueprint",
            Some(&blueprint_namespace),
            &blueprint_name,
            &[],
        ))?;
        let _: Value = get_resource(&get("v1", "Namespace", None, &namespace, &["metadata.labels"]))?;
        let backend = &blueprint["spec"]["backupConfigurationTemplate"]["backends"][0];
        let (storage_ns, storage_name) = (
            text(backend, "/storageRef/namespace"),
            text(backend, "/storageRef/name"),
        );
        let _: Value = get_resource(&get(
            storage,
            "BackupStorage",
            Some(storage_ns),
            storage_name,
            &["spec.usagePolicy"],
        ))?;
        let (retention_ns, retention_name) = (
            text(backend, "/retentionPolicy/namespace"),
            text(backend, "/retentionPolicy/name"),
        );
        let masks = ["spec.usagePolicy", "spec.successfulSnapshots"];
        let _: Value = get_resource(&get(
            storage,
            "RetentionPolicy",
            Some(retention_ns),
            retention_name,
            &masks,
        ))?;
        let generated = [
            (
                core,
                "BackupConfiguration",
                format!("{namespace}-statefulset-{name}"),
                ["metadata.annotations", "spec.target"],
            ),
            (
                storage,
                "Repository",
                format!("{namespace}-{name}"),
                ["spec.appRef", "spec.storageRef"],
            ),
        ];
        for (api_version, kind, generated_name, masks) in generated {
            let found: Result<Value, _> = get_resource(&get(
                api_version,
                kind,
                Some(&blueprint_namespace),
                &generated_name,
                &masks,
            ));
            if let Err(e) = found
                && !e.to_string().contains("Cannot find ")
            {
                return Err(e.into());
            }
        }
        let resolved = serde_json::to_string(&blueprint["spec"])?;
        object["metadata"]["annotations"]["autobackup.kubewarden.io/resolved"] = Value::String(resolved);
        mutate_request(object)
    }
}
