//! Loads a waPC policy module with wasmtime and calls its functions the way policy-server's
//! waPC runtime (the `wapc` host crate with `wasmtime-provider`) does.

use std::path::Path;

use anyhow::{Context, Result};
use wasmtime::{Config, Engine, Linker, Memory, Module, OptLevel, Store, TypedFunc};

use crate::host::Host;
use crate::wapc::{self, State};
use crate::{module_cache, wasi};

/// The failures of a waPC call, displayed like the `wapc` crate's errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WapcError {
    /// The guest reported an error, or trapped.
    GuestCallFailure(String),
}

impl std::fmt::Display for WapcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::GuestCallFailure(message) => write!(f, "Guest call failure: {message}"),
        }
    }
}

impl std::error::Error for WapcError {}

/// The fuel a metered instance starts with: more than any evaluation uses.
const FUEL: u64 = i64::MAX as u64;

/// A compiled policy; cheap to clone, instantiated once per evaluation.
#[derive(Clone)]
pub struct PolicyModule {
    engine: Engine,
    module: Module,
    /// Compiled with fuel metering: its instances count instructions.
    metered: bool,
}

impl PolicyModule {
    /// Compiles a policy file.
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::from_file_cached(path, None)
    }

    /// Compiles a policy file, or loads it from `cache_dir` where an earlier run left it
    /// compiled by this same engine (compiling with an unoptimized build of Cranelift takes
    /// seconds).
    pub fn from_file_cached(path: &Path, cache_dir: Option<&Path>) -> Result<Self> {
        Self::load(path, cache_dir, OptLevel::None)
    }

    /// Compiles a policy file with Cranelift's optimizations, as policy-server does: for
    /// timings (compiling takes longer).
    pub fn from_file_optimized(path: &Path) -> Result<Self> {
        Self::load(path, None, OptLevel::Speed)
    }

    /// Compiles a policy file with wasmtime's fuel metering, so that its instances count the
    /// wasm instructions they run ([`PolicyInstance::instructions`]).
    pub fn from_file_metered(path: &Path) -> Result<Self> {
        let bytes = read_policy(path)?;
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let module = compile(&engine, &bytes, path)?;
        Ok(Self {
            engine,
            module,
            metered: true,
        })
    }

    fn load(path: &Path, cache_dir: Option<&Path>, opt_level: OptLevel) -> Result<Self> {
        Self::load_bytes(&read_policy(path)?, path, cache_dir, opt_level)
    }

    /// Compiles the bytes of the policy file `path` (named in errors), or loads them from
    /// `cache_dir` (see [`Self::from_file_cached`]).
    pub fn from_bytes_cached(bytes: &[u8], path: &Path, cache_dir: Option<&Path>) -> Result<Self> {
        Self::load_bytes(bytes, path, cache_dir, OptLevel::None)
    }

    fn load_bytes(bytes: &[u8], path: &Path, cache_dir: Option<&Path>, opt_level: OptLevel) -> Result<Self> {
        let engine = new_engine(opt_level)?;
        let cached = cache_dir.map(|dir| dir.join(format!("{}.cwasm", module_cache::key(&engine, bytes))));
        if let Some(module) = cached.as_deref().and_then(|file| module_cache::load(&engine, file)) {
            return Ok(Self {
                engine,
                module,
                metered: false,
            });
        }
        let module = compile(&engine, bytes, path)?;
        if let Some(file) = &cached {
            module_cache::store(&module, file);
        }
        Ok(Self {
            engine,
            module,
            metered: false,
        })
    }

    /// Compiles a policy from its bytes (binary wasm).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let engine = new_engine(OptLevel::None)?;
        let module = Module::new(&engine, bytes)?;
        Ok(Self {
            engine,
            module,
            metered: false,
        })
    }

    /// Instantiates the module with its imports and runs its initialization (`_initialize`,
    /// `_start`, then `wapc_init`, whichever it exports).
    pub fn instantiate(&self, host: Host) -> Result<PolicyInstance> {
        let mut linker = Linker::new(&self.engine);
        wapc::add_to_linker(&mut linker)?;
        wasi::add_to_linker(&mut linker)?;
        linker.define_unknown_imports_as_traps(&self.module)?;

        let mut store = Store::new(&self.engine, State::new(host));
        if self.metered {
            store.set_fuel(FUEL)?;
        }
        let instance = linker.instantiate(&mut store, &self.module)?;
        for init in ["_initialize", "_start", "wapc_init"] {
            if let Some(func) = instance.get_func(&mut store, init) {
                run_init(func.typed::<(), ()>(&store)?.call(&mut store, ()), init)?;
            }
        }
        let guest_call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
            .map_err(anyhow::Error::from)
            .context("the module does not export the waPC function __guest_call")?;
        let memory = instance.get_memory(&mut store, "memory");
        Ok(PolicyInstance {
            store,
            guest_call,
            memory,
        })
    }
}

/// The first bytes of every WebAssembly binary module.
pub const WASM_MAGIC: &[u8] = b"\0asm";

/// Reads a policy file.
pub fn read_policy(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read policy {}", path.display()))
}

/// Refuses, in one line, a file that is not a WebAssembly module (wasmtime's own error dumps
/// the header bytes).
pub fn check_wasm(bytes: &[u8], path: &Path) -> Result<()> {
    if !bytes.starts_with(WASM_MAGIC) {
        anyhow::bail!(
            "the policy {} is not a WebAssembly module: give --policy a compiled policy (policy.wasm, annotated-policy.wasm)",
            path.display()
        );
    }
    Ok(())
}

fn compile(engine: &Engine, bytes: &[u8], path: &Path) -> Result<Module> {
    check_wasm(bytes, path)?;
    Module::new(engine, bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot load policy {}", path.display()))
}

/// policy-server's engine configuration; by default without Cranelift's optimizations (the
/// runner compiles often and runs each policy once).
fn new_engine(opt_level: OptLevel) -> Result<Engine> {
    let mut config = Config::new();
    config.cranelift_opt_level(opt_level);
    Ok(Engine::new(&config)?)
}

/// An initialization that ends with `proc_exit(0)` (a WASI command's `_start`) succeeded.
fn run_init(result: wasmtime::Result<()>, name: &str) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.downcast_ref::<wasi::GuestExit>(), Some(wasi::GuestExit(0))) => Ok(()),
        Err(e) => Err(anyhow::Error::from(e).context(format!("the policy's {name} failed"))),
    }
}

/// A running policy.
pub struct PolicyInstance {
    store: Store<State>,
    guest_call: TypedFunc<(i32, i32), i32>,
    memory: Option<Memory>,
}

impl PolicyInstance {
    /// Calls a waPC function of the guest (`validate`, `validate_settings`, …).
    pub fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, WapcError> {
        self.store.data_mut().start_guest_call(operation, payload);
        let result = self
            .guest_call
            .call(&mut self.store, (operation.len() as i32, payload.len() as i32))
            .map_err(|e| WapcError::GuestCallFailure(format!("{e:#}")))?;
        self.store
            .data_mut()
            .finish_guest_call(result)
            .map_err(WapcError::GuestCallFailure)
    }

    /// The size of the guest's linear memory in bytes (it never shrinks: after a call, the
    /// most the guest used so far).
    pub fn memory_size(&self) -> u64 {
        self.memory.map_or(0, |memory| memory.data_size(&self.store) as u64)
    }

    /// The wasm instructions the instance ran so far (wasmtime's fuel: one per instruction,
    /// but none for `nop`, `drop`, blocks and `end`), when its module is metered
    /// ([`PolicyModule::from_file_metered`]); 0 otherwise.
    pub fn instructions(&self) -> u64 {
        self.store.get_fuel().map_or(0, |left| FUEL - left)
    }

    /// The host state (logs, backend).
    pub fn host(&self) -> &Host {
        &self.store.data().host
    }

    /// The host state, mutably.
    pub fn host_mut(&mut self) -> &mut Host {
        &mut self.store.data_mut().host
    }

    /// What the policy wrote on its stdout and stderr.
    pub fn output(&self) -> &[u8] {
        &self.store.data().wasi.output
    }

    /// Echo the policy's stdout/stderr on our stderr.
    pub fn echo_output(&mut self, echo: bool) {
        self.store.data_mut().wasi.echo = echo;
    }
}
