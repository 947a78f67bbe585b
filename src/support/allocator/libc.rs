//! The C `malloc` family over the policy's allocator.
//!
//! Rust's default allocator on wasm32-wasip1 is wasi-libc's dlmalloc (11 KB). A global
//! allocator alone does not remove it: std still reaches libc's `malloc` (reading
//! `RUST_BACKTRACE` when it panics makes libc copy the environment). Defining the `malloc`
//! family here means the linker never pulls dlmalloc out of libc.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::null_mut;

use super::ALLOCATOR;

/// In front of each C allocation: its size, then its alignment, in the last two words before
/// the pointer handed out; the alignment is at least this, so they always fit.
const HEADER: usize = 16;
/// The alignment C's `malloc` guarantees on wasm32 (`max_align_t`).
const MALLOC_ALIGN: usize = 16;
/// `ENOMEM`, for `posix_memalign`.
const ENOMEM: i32 = 48;

/// An allocation of `size` bytes aligned to `align`, its header filled in; null when there is
/// no memory left or the size overflows.
unsafe fn allocate(align: usize, size: usize, zeroed: bool) -> *mut u8 {
    let align = align.max(HEADER);
    let Some(layout) = size
        .checked_add(align)
        .and_then(|total| Layout::from_size_align(total, align).ok())
    else {
        return null_mut();
    };
    // SAFETY: `layout` is not zero-sized; the header fits in the `align` bytes in front.
    unsafe {
        let base = if zeroed {
            ALLOCATOR.alloc_zeroed(layout)
        } else {
            ALLOCATOR.alloc(layout)
        };
        if base.is_null() {
            return base;
        }
        let pointer = base.add(align);
        pointer.cast::<usize>().sub(1).write(size);
        pointer.cast::<usize>().sub(2).write(align);
        pointer
    }
}

/// The size recorded in front of a pointer [`allocate`] handed out.
unsafe fn size_of(pointer: *mut u8) -> usize {
    // SAFETY: the caller passes a pointer from `allocate`.
    unsafe { pointer.cast::<usize>().sub(1).read() }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    unsafe { allocate(MALLOC_ALIGN, size, false) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    match count.checked_mul(size) {
        Some(total) => unsafe { allocate(MALLOC_ALIGN, total, true) },
        None => null_mut(),
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
    unsafe { allocate(align, size, false) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32 {
    let pointer = unsafe { allocate(align, size, false) };
    if pointer.is_null() {
        return ENOMEM;
    }
    unsafe { out.write(pointer) };
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn malloc_usable_size(pointer: *mut u8) -> usize {
    if pointer.is_null() {
        0
    } else {
        unsafe { size_of(pointer) }
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn free(pointer: *mut u8) {
    if pointer.is_null() {
        return;
    }
    // SAFETY: `pointer` came from `allocate`, which recorded what it was allocated with.
    unsafe {
        let align = pointer.cast::<usize>().sub(2).read();
        let layout = Layout::from_size_align_unchecked(size_of(pointer) + align, align);
        ALLOCATOR.dealloc(pointer.sub(align), layout);
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn realloc(pointer: *mut u8, size: usize) -> *mut u8 {
    if pointer.is_null() {
        return unsafe { malloc(size) };
    }
    unsafe {
        let moved = malloc(size);
        if !moved.is_null() {
            core::ptr::copy_nonoverlapping(pointer, moved, size_of(pointer).min(size));
            free(pointer);
        }
        moved
    }
}
