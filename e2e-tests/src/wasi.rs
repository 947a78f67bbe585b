//! The WASI preview 1 imports a `wasm32-wasip1` policy links against, as policy-server grants
//! them: no arguments, no environment, no preopened directories, the clocks and randomness.
//! What the policy writes on stdout/stderr is kept (and can be echoed on our stderr, never on
//! stdout, which belongs to the AdmissionResponse). Any other WASI function traps when called.

use std::io::{Read, Write as _};

use wasmtime::{Caller, Extern, Linker, Memory};

const MODULE: &str = "wasi_snapshot_preview1";
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;

/// The guest called `proc_exit`.
#[derive(Debug)]
pub struct GuestExit(pub i32);

impl std::fmt::Display for GuestExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the policy called proc_exit({})", self.0)
    }
}

impl std::error::Error for GuestExit {}

/// What the WASI functions keep between calls.
#[derive(Debug, Default)]
pub struct WasiState {
    /// Bytes the policy wrote on fd 1 and 2.
    pub output: Vec<u8>,
    /// Echo the policy's output on stderr as it is written.
    pub echo: bool,
}

/// Gives the WASI functions their state inside the store's data.
pub trait HasWasi {
    fn wasi(&mut self) -> &mut WasiState;
}

fn memory<T>(caller: &mut Caller<'_, T>) -> Option<Memory> {
    caller.get_export("memory").and_then(Extern::into_memory)
}

fn write_bytes<T>(caller: &mut Caller<'_, T>, ptr: i32, bytes: &[u8]) -> i32 {
    match memory(caller) {
        Some(mem) if mem.write(caller, ptr as u32 as usize, bytes).is_ok() => ERRNO_SUCCESS,
        _ => ERRNO_FAULT,
    }
}

fn write_u32<T>(caller: &mut Caller<'_, T>, ptr: i32, value: u32) -> i32 {
    write_bytes(caller, ptr, &value.to_le_bytes())
}

fn read_bytes<T>(caller: &mut Caller<'_, T>, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let mem = memory(caller)?;
    let mut buf = vec![0; len as usize];
    mem.read(caller, ptr as usize, &mut buf).ok()?;
    Some(buf)
}

/// Gathers the iovec list of `fd_write`.
fn gather<T>(caller: &mut Caller<'_, T>, iovs: i32, iovs_len: i32) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    for i in 0..iovs_len as u32 {
        let iov = read_bytes(caller, iovs as u32 + i * 8, 8)?;
        let ptr = u32::from_le_bytes(iov[0..4].try_into().ok()?);
        let len = u32::from_le_bytes(iov[4..8].try_into().ok()?);
        data.extend(read_bytes(caller, ptr, len)?);
    }
    Some(data)
}

fn fd_write<T: HasWasi>(mut caller: Caller<'_, T>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32 {
    if fd != 1 && fd != 2 {
        return ERRNO_BADF;
    }
    let Some(data) = gather(&mut caller, iovs, iovs_len) else {
        return ERRNO_FAULT;
    };
    let state = caller.data_mut().wasi();
    if state.echo {
        let _ = write!(std::io::stderr(), "{}", String::from_utf8_lossy(&data));
    }
    state.output.extend_from_slice(&data);
    write_u32(&mut caller, nwritten, data.len() as u32)
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if filled.is_err() {
        // Fallback: std's randomly seeded hasher.
        use std::hash::{BuildHasher, RandomState};
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte = RandomState::new().hash_one(i) as u8;
        }
    }
    buf
}

fn clock_now(id: i32) -> Option<u64> {
    match id {
        0 => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_nanos() as u64),
        1..=3 => {
            static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
            Some(START.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64)
        }
        _ => None,
    }
}

/// Defines the supported WASI functions in `linker`.
pub fn add_to_linker<T: HasWasi + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "fd_write", fd_write::<T>)?;
    linker.func_wrap(MODULE, "random_get", |mut caller: Caller<'_, T>, buf: i32, len: i32| {
        write_bytes(&mut caller, buf, &random_bytes(len as u32 as usize))
    })?;
    for (sizes, get) in [("environ_sizes_get", "environ_get"), ("args_sizes_get", "args_get")] {
        linker.func_wrap(
            MODULE,
            sizes,
            |mut caller: Caller<'_, T>, count: i32, size: i32| match write_u32(&mut caller, count, 0) {
                ERRNO_SUCCESS => write_u32(&mut caller, size, 0),
                errno => errno,
            },
        )?;
        linker.func_wrap(MODULE, get, |_: Caller<'_, T>, _: i32, _: i32| ERRNO_SUCCESS)?;
    }
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Caller<'_, T>, code: i32| -> wasmtime::Result<()> { Err(wasmtime::Error::new(GuestExit(code))) },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Caller<'_, T>, id: i32, _precision: i64, out: i32| match clock_now(id) {
            Some(now) => write_bytes(&mut caller, out, &now.to_le_bytes()),
            None => ERRNO_INVAL,
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_res_get",
        |mut caller: Caller<'_, T>, id: i32, out: i32| match clock_now(id) {
            Some(_) => write_bytes(&mut caller, out, &1u64.to_le_bytes()),
            None => ERRNO_INVAL,
        },
    )?;
    linker.func_wrap(MODULE, "sched_yield", || ERRNO_SUCCESS)?;
    // No preopened directories: the guest's std stops looking at the first EBADF.
    linker.func_wrap(MODULE, "fd_prestat_get", |_: Caller<'_, T>, _: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(MODULE, "fd_close", |_: Caller<'_, T>, _: i32| ERRNO_BADF)?;
    Ok(())
}
