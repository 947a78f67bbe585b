/// KubeStash's host-call budget (SPEC §11.5), per kind: at most 2 Namespaces (the target's and
/// the BackupConfiguration's), 1 BackupBlueprint, 1 per distinct BackupStorage and
/// RetentionPolicy (at most 8 backends), 1 per distinct repository (at most 32) and 1
/// BackupConfiguration; nothing else. Written once for the hostile catalogue
/// (`e2e-tests/tests/hostile/catalogue.rs`) and the fuzz targets (`fuzz/fuzz_targets/common`),
/// which `include!` it.
pub const KUBESTASH_BUDGET: [(&str, usize); 6] = [
    ("Namespace", 2),
    ("BackupBlueprint", 1),
    ("BackupStorage", 8),
    ("RetentionPolicy", 8),
    ("Repository", 32),
    ("BackupConfiguration", 1),
];
