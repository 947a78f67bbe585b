//! An on-disk cache of compiled policies (`Module::serialize`), keyed by the policy's bytes and
//! the engine, so that repeated runs skip the compilation.

use std::path::Path;

use wasmtime::{Engine, Module};

/// Names a compiled module by the policy's bytes and the engine's compatibility hash.
pub fn key(engine: &Engine, bytes: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}-{}", hasher.finish(), bytes.len())
}

pub fn load(engine: &Engine, file: &Path) -> Option<Module> {
    // SAFETY: the cache directory is chosen by the caller and holds only what `store_cached`
    // wrote with `Module::serialize`; wasmtime rejects artifacts of another engine or version.
    file.is_file()
        .then(|| unsafe { Module::deserialize_file(engine, file) }.ok())
        .flatten()
}

/// Best effort: a cache that cannot be written only costs the next run a compilation.
pub fn store(module: &Module, file: &Path) {
    let Ok(bytes) = module.serialize() else { return };
    let Some(dir) = file.parent() else { return };
    let temporary = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    let stored = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&temporary, bytes))
        .and_then(|()| std::fs::rename(&temporary, file));
    if stored.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}
