//! Loads a waPC policy module with wasmtime and calls its functions the way policy-server's
//! waPC runtime (the `wapc` host crate with `wasmtime-provider`) does.

use std::path::Path;

use anyhow::{Context, Result};
use wasmtime::{Caller, Config, Engine, Extern, Linker, Module, Store, TypedFunc};

use crate::host::Host;
use crate::wasi::{self, HasWasi, WasiState};

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

/// A compiled policy; cheap to clone, instantiated once per evaluation.
#[derive(Clone)]
pub struct PolicyModule {
    engine: Engine,
    module: Module,
}

impl PolicyModule {
    /// Compiles a policy file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read policy {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("cannot load policy {}", path.display()))
    }

    /// Compiles a policy from its bytes (binary wasm).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let module = Module::new(&engine, bytes)?;
        Ok(Self { engine, module })
    }

    /// Instantiates the module with its imports and runs its initialization (`_initialize`,
    /// `_start`, then `wapc_init`, whichever it exports).
    pub fn instantiate(&self, host: Host) -> Result<PolicyInstance> {
        let mut linker = Linker::new(&self.engine);
        add_wapc_to_linker(&mut linker)?;
        wasi::add_to_linker(&mut linker)?;
        linker.define_unknown_imports_as_traps(&self.module)?;

        let mut store = Store::new(&self.engine, State::new(host));
        let instance = linker.instantiate(&mut store, &self.module)?;
        for init in ["_initialize", "_start", "wapc_init"] {
            if let Some(func) = instance.get_func(&mut store, init) {
                run_init(func.typed::<(), ()>(&store)?.call(&mut store, ()), init)?;
            }
        }
        let guest_call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
            .context("the module does not export the waPC function __guest_call")?;
        Ok(PolicyInstance { store, guest_call })
    }
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
}

impl PolicyInstance {
    /// Calls a waPC function of the guest (`validate`, `validate_settings`, …).
    pub fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, WapcError> {
        let state = self.store.data_mut();
        state.guest_request = Some((operation.to_string(), payload.to_vec()));
        state.guest_response = None;
        state.guest_error = None;
        let result = self
            .guest_call
            .call(&mut self.store, (operation.len() as i32, payload.len() as i32))
            .map_err(|e| WapcError::GuestCallFailure(format!("{e:#}")))?;
        let state = self.store.data_mut();
        match (result, state.guest_response.take(), state.guest_error.take()) {
            (0, _, Some(error)) => Err(WapcError::GuestCallFailure(error)),
            (0, _, None) => Err(WapcError::GuestCallFailure("No error message set for call failure".into())),
            (_, Some(response), _) => Ok(response),
            (_, None, Some(error)) => Err(WapcError::GuestCallFailure(error)),
            (_, None, None) => Err(WapcError::GuestCallFailure("No error message OR response set for call success".into())),
        }
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

/// The store data: the waPC exchange buffers, the host and WASI state.
struct State {
    host: Host,
    wasi: WasiState,
    guest_request: Option<(String, Vec<u8>)>,
    guest_response: Option<Vec<u8>>,
    guest_error: Option<String>,
    host_response: Option<Vec<u8>>,
    host_error: Option<String>,
}

impl State {
    fn new(host: Host) -> Self {
        Self {
            host,
            wasi: WasiState::default(),
            guest_request: None,
            guest_response: None,
            guest_error: None,
            host_response: None,
            host_error: None,
        }
    }
}

impl HasWasi for State {
    fn wasi(&mut self) -> &mut WasiState {
        &mut self.wasi
    }
}

fn read(caller: &mut Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmtime::Error::msg("the module does not export its memory"))?;
    let mut buf = vec![0; len as u32 as usize];
    memory.read(&caller, ptr as u32 as usize, &mut buf)?;
    Ok(buf)
}

fn write(caller: &mut Caller<'_, State>, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmtime::Error::msg("the module does not export its memory"))?;
    memory.write(caller, ptr as u32 as usize, bytes)?;
    Ok(())
}

fn read_string(caller: &mut Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, ptr, len)?).into_owned())
}

/// `__host_call(binding, namespace, operation, payload) -> 1 | 0`.
#[allow(clippy::too_many_arguments)]
fn host_call(
    mut caller: Caller<'_, State>,
    bd_ptr: i32,
    bd_len: i32,
    ns_ptr: i32,
    ns_len: i32,
    op_ptr: i32,
    op_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    let binding = read_string(&mut caller, bd_ptr, bd_len)?;
    let namespace = read_string(&mut caller, ns_ptr, ns_len)?;
    let operation = read_string(&mut caller, op_ptr, op_len)?;
    let payload = read(&mut caller, ptr, len)?;
    let state = caller.data_mut();
    state.host_response = None;
    state.host_error = None;
    match state.host.call(&binding, &namespace, &operation, &payload) {
        Ok(response) => {
            state.host_response = Some(response);
            Ok(1)
        }
        Err(error) => {
            state.host_error = Some(error);
            Ok(0)
        }
    }
}

fn add_wapc_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap("wapc", "__guest_request", |mut caller: Caller<'_, State>, op_ptr: i32, ptr: i32| {
        if let Some((operation, payload)) = caller.data().guest_request.clone() {
            write(&mut caller, op_ptr, operation.as_bytes())?;
            write(&mut caller, ptr, &payload)?;
        }
        wasmtime::Result::<()>::Ok(())
    })?;
    linker.func_wrap("wapc", "__guest_response", |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
        let response = read(&mut caller, ptr, len)?;
        caller.data_mut().guest_response = Some(response);
        wasmtime::Result::<()>::Ok(())
    })?;
    linker.func_wrap("wapc", "__guest_error", |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
        let error = read_string(&mut caller, ptr, len)?;
        caller.data_mut().guest_error = Some(error);
        wasmtime::Result::<()>::Ok(())
    })?;
    linker.func_wrap("wapc", "__host_call", host_call)?;
    linker.func_wrap("wapc", "__host_response_len", |caller: Caller<'_, State>| {
        caller.data().host_response.as_ref().map_or(0, |r| r.len() as i32)
    })?;
    linker.func_wrap("wapc", "__host_response", |mut caller: Caller<'_, State>, ptr: i32| {
        if let Some(response) = caller.data().host_response.clone() {
            write(&mut caller, ptr, &response)?;
        }
        wasmtime::Result::<()>::Ok(())
    })?;
    linker.func_wrap("wapc", "__host_error_len", |caller: Caller<'_, State>| {
        caller.data().host_error.as_ref().map_or(0, |e| e.len() as i32)
    })?;
    linker.func_wrap("wapc", "__host_error", |mut caller: Caller<'_, State>, ptr: i32| {
        if let Some(error) = caller.data().host_error.clone() {
            write(&mut caller, ptr, error.as_bytes())?;
        }
        wasmtime::Result::<()>::Ok(())
    })?;
    linker.func_wrap("wapc", "__console_log", |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
        let line = read_string(&mut caller, ptr, len)?;
        eprintln!("policy console: {line}");
        wasmtime::Result::<()>::Ok(())
    })?;
    Ok(())
}
