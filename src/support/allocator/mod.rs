//! The allocator of `policy.wasm`: talc, with the request arena in front of it while
//! `validate` evaluates a request (`request_arena.rs`), and the C `malloc` family over both
//! (`libc.rs`). Natively (tests, benches) Rust's own allocator serves, and [`persistent`]
//! only runs its closure.

#[cfg(target_arch = "wasm32")]
mod libc;
#[cfg(any(target_arch = "wasm32", test))]
mod request_arena;

#[cfg(target_arch = "wasm32")]
pub use global::{in_request_arena, persistent};

/// Runs `make` with its allocations outside the request arena: for what the policy keeps
/// from one request to the next.
#[cfg(not(target_arch = "wasm32"))]
pub fn persistent<R>(make: impl FnOnce() -> R) -> R {
    make()
}

#[cfg(target_arch = "wasm32")]
use global::ALLOCATOR;

#[cfg(target_arch = "wasm32")]
mod global {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    use super::request_arena::{ALIGN, RequestArena, Resize};

    #[global_allocator]
    pub(super) static ALLOCATOR: PolicyAllocator = PolicyAllocator {
        talc: talc::wasm::new_wasm_dynamic_allocator(),
        arena: UnsafeCell::new(RequestArena::new()),
    };

    pub(super) struct PolicyAllocator {
        talc: talc::wasm::WasmDynamicTalc,
        arena: UnsafeCell<RequestArena>,
    }

    // SAFETY: a wasm32-wasip1 policy runs on one thread.
    unsafe impl Sync for PolicyAllocator {}

    impl PolicyAllocator {
        fn arena<R>(&self, use_it: impl FnOnce(&mut RequestArena) -> R) -> R {
            // SAFETY: one thread, and no arena method calls back into this allocator (its
            // chunks come from talc directly), so this is the only reference.
            unsafe { use_it(&mut *self.arena.get()) }
        }
    }

    unsafe impl GlobalAlloc for PolicyAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let new_chunk = |size| {
                // SAFETY: a chunk is not zero-sized.
                let chunk = unsafe { self.talc.alloc(Layout::from_size_align_unchecked(size, ALIGN)) };
                (!chunk.is_null()).then_some(chunk as usize)
            };
            match self.arena(|arena| arena.allocate(layout.size(), layout.align(), new_chunk)) {
                Some(address) => address as *mut u8,
                // SAFETY: the caller's layout, as given.
                None => unsafe { self.talc.alloc(layout) },
            }
        }

        unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
            if !self.arena(|arena| arena.free(pointer as usize, layout.size())) {
                // SAFETY: not the arena's, so talc allocated it.
                unsafe { self.talc.dealloc(pointer, layout) }
            }
        }

        unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY (all three): the caller's block and layout, as given.
            match self.arena(|arena| arena.resize(pointer as usize, layout.size(), new_size)) {
                Resize::NotOwned => unsafe { self.talc.realloc(pointer, layout, new_size) },
                Resize::InPlace => pointer,
                Resize::Move => unsafe {
                    let moved = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
                    if !moved.is_null() {
                        core::ptr::copy_nonoverlapping(pointer, moved, layout.size().min(new_size));
                        self.dealloc(pointer, layout);
                    }
                    moved
                },
            }
        }
    }

    /// Evaluates one request in the arena. Its answer stays valid until the next request
    /// starts: the host reads it as soon as `validate` returns.
    pub fn in_request_arena<R>(evaluate: impl FnOnce() -> R) -> R {
        ALLOCATOR.arena(RequestArena::start);
        let answer = evaluate();
        ALLOCATOR.arena(RequestArena::pause);
        answer
    }

    /// Runs `make` with its allocations outside the request arena: for what the policy keeps
    /// from one request to the next.
    pub fn persistent<R>(make: impl FnOnce() -> R) -> R {
        let active = ALLOCATOR.arena(RequestArena::pause);
        let kept = make();
        ALLOCATOR.arena(|arena| arena.resume(active));
        kept
    }
}
