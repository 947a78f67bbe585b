//! backup-blueprint-policy: Stash Auto Backup resolved and validated at admission time.

#[cfg(target_arch = "wasm32")]
mod wasm {
    use kubewarden_policy_sdk::wapc_guest as guest;
    use kubewarden_policy_sdk::{accept_request, protocol_version_guest};

    #[unsafe(no_mangle)]
    pub extern "C" fn wapc_init() {
        guest::register_function("validate", validate);
        guest::register_function("validate_settings", validate_settings);
        guest::register_function("protocol_version", protocol_version_guest);
    }

    fn validate(_payload: &[u8]) -> guest::CallResult {
        accept_request()
    }

    fn validate_settings(_payload: &[u8]) -> guest::CallResult {
        Ok(br#"{"valid":true}"#.to_vec())
    }
}
