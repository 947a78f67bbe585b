//! The waPC host functions (module `wapc`) as the `wapc` host crate implements them: the guest
//! request/response/error exchange and `__host_call`, answered by the [`Host`].

use std::io::Write as _;

use wasmtime::{Caller, Extern, Linker};

use crate::host::Host;
use crate::wasi::{HasWasi, WasiState};

/// The store data: the waPC exchange buffers, the host and WASI state.
pub(crate) struct State {
    pub(crate) host: Host,
    pub(crate) wasi: WasiState,
    guest_request: Option<(String, Vec<u8>)>,
    guest_response: Option<Vec<u8>>,
    guest_error: Option<String>,
    host_response: Option<Vec<u8>>,
    host_error: Option<String>,
}

impl State {
    pub(crate) fn new(host: Host) -> Self {
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

impl State {
    /// Sets up the exchange buffers for a call of `operation` with `payload`.
    pub(crate) fn start_guest_call(&mut self, operation: &str, payload: &[u8]) {
        self.guest_request = Some((operation.to_string(), payload.to_vec()));
        self.guest_response = None;
        self.guest_error = None;
    }

    /// The outcome of a guest call that returned `result`, as the `wapc` crate reads it.
    pub(crate) fn finish_guest_call(&mut self, result: i32) -> Result<Vec<u8>, String> {
        match (result, self.guest_response.take(), self.guest_error.take()) {
            (0, _, Some(error)) => Err(error),
            (0, _, None) => Err("No error message set for call failure".into()),
            (_, Some(response), _) => Ok(response),
            (_, None, Some(error)) => Err(error),
            (_, None, None) => Err("No error message OR response set for call success".into()),
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

pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "wapc",
        "__guest_request",
        |mut caller: Caller<'_, State>, op_ptr: i32, ptr: i32| {
            if let Some((operation, payload)) = caller.data().guest_request.clone() {
                write(&mut caller, op_ptr, operation.as_bytes())?;
                write(&mut caller, ptr, &payload)?;
            }
            wasmtime::Result::<()>::Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_response",
        |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
            let response = read(&mut caller, ptr, len)?;
            caller.data_mut().guest_response = Some(response);
            wasmtime::Result::<()>::Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_error",
        |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
            let error = read_string(&mut caller, ptr, len)?;
            caller.data_mut().guest_error = Some(error);
            wasmtime::Result::<()>::Ok(())
        },
    )?;
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
    linker.func_wrap(
        "wapc",
        "__console_log",
        |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
            let line = read_string(&mut caller, ptr, len)?;
            let _ = writeln!(std::io::stderr(), "policy console: {line}");
            wasmtime::Result::<()>::Ok(())
        },
    )?;
    Ok(())
}
