//! The annotations the runner and the tests read or write, one constant each.

/// Written by the policy on a target: the resolved objects, a JSON `v1` `List`.
pub const RESOLVED: &str = "autobackup.kubewarden.io/resolved";
/// Written on a generated BackupConfiguration when its target has no `uid` yet.
pub const OWNER: &str = "autobackup.kubewarden.io/owner";
/// Written on every generated object: `<apiVersion>/<Kind>/<namespace>/<name>` of its target.
pub const TARGET: &str = "autobackup.kubewarden.io/target";
/// Written on the generated objects (a label): the blueprint they come from.
pub const BLUEPRINT_LABEL: &str = "autobackup.kubewarden.io/blueprint";
/// Read on a target (Stash's): the trigger, the BackupBlueprint names.
pub const BACKUP_BLUEPRINT: &str = "stash.appscode.com/backup-blueprint";
/// Read on a workload (Stash's): the paths to back up.
pub const TARGET_PATHS: &str = "stash.appscode.com/target-paths";
/// Read on a workload (Stash's): the volumes and where they are mounted.
pub const VOLUME_MOUNTS: &str = "stash.appscode.com/volume-mounts";
