//! The request arena: while `validate` evaluates one request, small allocations are bumped
//! through a few chunks, and the next request starts the chunks over. An evaluation builds
//! and drops thousands of small JSON nodes and strings; in policy.wasm under wasmtime, talc's
//! free lists took a sixth of it. Here an allocation is a bounds check, and a free one
//! comparison (the last allocation is given back, which temporaries usually are).
//!
//! Addresses only: the global allocator (`mod.rs`) turns them into pointers and gets the
//! chunks from talc, which never takes them back.
//!
//! The rule that makes it sound: nothing allocated during a request may be used after the
//! next one starts. The answer is read by the host before that; what the policy keeps
//! across requests (the compiled settings) is allocated outside the arena
//! ([`super::persistent`]).

/// The first chunk's size; each next one is twice the one before.
const FIRST_CHUNK: usize = 64 * 1024;
/// At most this many chunks: 64 KiB to 8 MiB, 16 MiB in all. A request that needs more
/// (only hostile ones do) is served by talc beyond that.
pub const MAX_CHUNKS: usize = 8;
/// Larger allocations go to talc, which can grow a large block in place.
pub const LARGEST: usize = 16 * 1024;
/// Chunks are aligned to this, and so is every allocation the arena serves.
pub const ALIGN: usize = 16;

#[derive(Debug, Clone, Copy, Default)]
struct Chunk {
    start: usize,
    end: usize,
}

/// Where a block being resized ends up.
#[derive(Debug, PartialEq)]
pub enum Resize {
    /// Not the arena's: talc's to resize.
    NotOwned,
    /// Resized where it is.
    InPlace,
    /// The arena's, but it cannot grow there: allocate, copy, free.
    Move,
}

#[derive(Debug, Default)]
pub struct RequestArena {
    chunks: [Chunk; MAX_CHUNKS],
    count: usize,
    /// The chunk being bumped through, and the first free address in it.
    current: usize,
    next: usize,
    active: bool,
}

impl RequestArena {
    pub const fn new() -> Self {
        RequestArena {
            chunks: [Chunk { start: 0, end: 0 }; MAX_CHUNKS],
            count: 0,
            current: 0,
            next: 0,
            active: false,
        }
    }

    /// A request starts: every block the arena handed out before is given up.
    pub fn start(&mut self) {
        self.active = true;
        self.current = 0;
        self.next = self.chunks[0].start;
    }

    /// Serves no allocation until [`resume`](Self::resume) or the next [`start`](Self::start);
    /// returns whether it was serving.
    pub fn pause(&mut self) -> bool {
        std::mem::replace(&mut self.active, false)
    }

    pub fn resume(&mut self, active: bool) {
        self.active = active;
    }

    /// The address of `size` bytes, when the arena serves this allocation; `new_chunk(size)`
    /// asks for a chunk of `size` bytes (aligned to [`ALIGN`]).
    pub fn allocate(
        &mut self,
        size: usize,
        align: usize,
        mut new_chunk: impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        if !self.active || size > LARGEST || align > ALIGN {
            return None;
        }
        let size = size.next_multiple_of(ALIGN);
        loop {
            if self.current < self.count {
                let end = self.next + size;
                if end <= self.chunks[self.current].end {
                    let start = self.next;
                    self.next = end;
                    return Some(start);
                }
                self.current += 1;
                if self.current < self.count {
                    self.next = self.chunks[self.current].start;
                    continue;
                }
            }
            if self.count == MAX_CHUNKS {
                return None;
            }
            let chunk_size = FIRST_CHUNK << self.count;
            let start = new_chunk(chunk_size)?;
            self.chunks[self.count] = Chunk {
                start,
                end: start + chunk_size,
            };
            self.count += 1;
            self.current = self.count - 1;
            self.next = start;
        }
    }

    /// Frees a block: whether it was the arena's (talc frees the others). The last block
    /// handed out is given back; the others wait for the next request.
    pub fn free(&mut self, address: usize, size: usize) -> bool {
        if !self.owns(address) {
            return false;
        }
        if self.is_last(address, size) {
            self.next = address;
        }
        true
    }

    /// Resizes a block from `size` to `new_size` bytes.
    pub fn resize(&mut self, address: usize, size: usize, new_size: usize) -> Resize {
        if !self.owns(address) {
            return Resize::NotOwned;
        }
        let new_end = (address + new_size).next_multiple_of(ALIGN);
        if new_size <= size {
            if self.is_last(address, size) {
                self.next = new_end;
            }
            return Resize::InPlace;
        }
        if self.active && self.is_last(address, size) && new_end <= self.chunks[self.current].end {
            self.next = new_end;
            return Resize::InPlace;
        }
        Resize::Move
    }

    fn owns(&self, address: usize) -> bool {
        self.chunks[..self.count]
            .iter()
            .any(|chunk| chunk.start <= address && address < chunk.end)
    }

    /// Whether the block is the last one handed out from the current chunk.
    fn is_last(&self, address: usize, size: usize) -> bool {
        self.current < self.count
            && address >= self.chunks[self.current].start
            && (address + size).next_multiple_of(ALIGN) == self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks handed out one after another from address 0x10000, as talc would.
    fn chunks() -> impl FnMut(usize) -> Option<usize> {
        let mut next = 0x10000;
        move |size| {
            let start = next;
            next += size + ALIGN;
            Some(start)
        }
    }

    fn started() -> RequestArena {
        let mut arena = RequestArena::new();
        arena.start();
        arena
    }

    #[test]
    fn bumps_aligned_and_starts_over_with_each_request() {
        let mut arena = started();
        let mut source = chunks();
        let a = arena.allocate(3, 1, &mut source).unwrap();
        let b = arena.allocate(20, 8, &mut source).unwrap();
        assert_eq!((a, b), (0x10000, 0x10010));
        arena.start();
        assert_eq!(arena.allocate(5, 4, &mut source), Some(a));
    }

    #[test]
    fn serves_nothing_paused_large_or_overaligned() {
        let mut arena = started();
        let mut source = chunks();
        assert_eq!(arena.allocate(LARGEST + 1, 1, &mut source), None);
        assert_eq!(arena.allocate(8, 32, &mut source), None);
        let was = arena.pause();
        assert!(was);
        assert_eq!(arena.allocate(8, 8, &mut source), None);
        arena.resume(was);
        assert!(arena.allocate(8, 8, &mut source).is_some());
        let mut idle = RequestArena::new();
        assert_eq!(idle.allocate(8, 8, &mut source), None);
    }

    #[test]
    fn the_last_block_is_given_back_the_others_wait() {
        let mut arena = started();
        let mut source = chunks();
        let a = arena.allocate(10, 1, &mut source).unwrap();
        let b = arena.allocate(10, 1, &mut source).unwrap();
        assert!(arena.free(a, 10));
        assert!(arena.free(b, 10));
        assert_eq!(arena.allocate(10, 1, &mut source), Some(b));
        assert!(!arena.free(0x5, 10), "not the arena's: talc's");
    }

    #[test]
    fn grows_the_last_block_in_place_and_moves_the_others() {
        let mut arena = started();
        let mut source = chunks();
        let a = arena.allocate(16, 8, &mut source).unwrap();
        assert_eq!(arena.resize(a, 16, 100), Resize::InPlace);
        let b = arena.allocate(16, 8, &mut source).unwrap();
        assert_eq!(b, a + 112);
        assert_eq!(arena.resize(a, 100, 200), Resize::Move);
        assert_eq!(arena.resize(a, 100, 50), Resize::InPlace);
        assert_eq!(arena.resize(b, 16, 8), Resize::InPlace);
        let c = arena.allocate(1, 1, &mut source).unwrap();
        assert_eq!(c, b + 16);
        assert_eq!(arena.resize(c, 1, FIRST_CHUNK), Resize::Move, "past the chunk's end");
        assert_eq!(arena.resize(0x5, 16, 32), Resize::NotOwned);
    }

    #[test]
    fn chunks_double_up_to_the_last_then_talc_serves() {
        let mut arena = started();
        let mut source = chunks();
        let mut served = 0;
        while arena.allocate(LARGEST, 8, &mut source).is_some() {
            served += LARGEST;
        }
        assert_eq!(arena.count, MAX_CHUNKS);
        assert_eq!(served, (FIRST_CHUNK << MAX_CHUNKS) - FIRST_CHUNK);
        // The next request reuses the same chunks, from the first.
        arena.start();
        assert_eq!(arena.allocate(1, 1, &mut source), Some(0x10000));
        assert_eq!(arena.count, MAX_CHUNKS);
    }

    #[test]
    fn no_chunk_left_means_talc() {
        let mut arena = started();
        assert_eq!(arena.allocate(8, 8, |_| None), None);
    }
}
