//! The adapter's memory allocator: dlmalloc, with a small, self-emptying
//! cache of large blocks in front of it.
//!
//! Owns: where the adapter's memory comes from, and keeping freed buffers of
//! 64 KiB and more for the next invocation.
//! Must not: hold more than [`CACHE_LIMIT`] bytes, or keep a block that the
//! last invocation did not use.
//!
//! Why not the system's: musl hands every allocation over ~128 KiB straight
//! to `mmap` and back to `munmap` when freed, and returns the pages of emptied
//! groups of small blocks too. An invocation with a 1 MiB body allocates a few
//! large buffers (the event, the decoded body, the result JSON), so each one
//! mapped fresh memory and paid a page fault for every 4 KiB it touched, in
//! the kernel; even a small invocation unmapped and re-faulted pages
//! (bench/README.md has the measurements).
//!
//! So: small blocks come from dlmalloc, which keeps freed memory in its bins.
//! Large blocks are rounded up to a power of two and come from the system; a
//! freed one is kept (two per size) and handed out again, already mapped, and
//! grows within its size without a copy. At the end of each invocation
//! ([`end_of_invocation`]) a block the invocation did not reuse is given back
//! to the system: invocations of one shape keep their buffers, and the
//! buffers of another shape do not linger.
//!
//! Why not dlmalloc for everything: it keeps what large invocations used
//! (bench/README.md measures it with `python3 bench/retention.py`), and the
//! app shares the function's memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// dlmalloc behind a spin lock. The adapter allocates from one async thread
/// (the readiness thread allocates a little at start), so the lock is
/// nearly always free; dlmalloc's own global lock, an uncontended pthread
/// mutex, costs a measurable share of a small invocation's instructions
/// (callgrind, bench/README.md). With worker threads (Managed Instances and
/// `PORTSIDE_WORKER_THREADS`), the lock is contended and yields after a
/// few spins; its cost is part of what `bench/threads.py` measures.
struct Dlmalloc {
    busy: AtomicBool,
    heap: UnsafeCell<dlmalloc::Dlmalloc>,
}

// SAFETY: `heap` is only reached through `with`, which holds `busy` for the
// whole access, so no two threads ever touch it at once.
unsafe impl Sync for Dlmalloc {}

static DLMALLOC: Dlmalloc = Dlmalloc {
    busy: AtomicBool::new(false),
    heap: UnsafeCell::new(dlmalloc::Dlmalloc::new()),
};

impl Dlmalloc {
    fn with<R>(&self, f: impl FnOnce(&mut dlmalloc::Dlmalloc) -> R) -> R {
        let mut spins = 0u32;
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spins += 1;
            if spins.is_multiple_of(64) {
                // The holder may have been preempted: let it run.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: `busy` was false and is now ours: nothing else holds the heap
        // until it is released below (dlmalloc does not panic or re-enter).
        let result = f(unsafe { &mut *self.heap.get() });
        self.busy.store(false, Ordering::Release);
        result
    }

    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is GlobalAlloc::alloc's, which
        // dlmalloc's malloc shares.
        self.with(|heap| unsafe { heap.malloc(layout.size(), layout.align()) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this heap with `layout` (GlobalAlloc's contract).
        self.with(|heap| unsafe { heap.free(ptr, layout.size(), layout.align()) })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is GlobalAlloc::realloc's.
        self.with(|heap| unsafe { heap.realloc(ptr, layout.size(), layout.align(), new_size) })
    }
}

/// Blocks at least this large are cached.
const MIN_CACHED: usize = 64 * 1024;
/// Size classes: 64 KiB (2^16) to 16 MiB (2^24).
const FIRST_CLASS_BITS: u32 = 16;
const CLASSES: usize = 9;
/// Blocks kept per size class and invocation in flight: what one
/// invocation frees of one size.
const SLOTS_PER_INVOCATION: usize = 2;
/// Slots per size class at most (Managed Instances with 64 invocations in
/// flight use all of them).
const SLOTS: usize = 128;
/// Invocations an unused block is kept for, per invocation in flight.
/// Longer keeps a few more buffers warm when invocations alternate between
/// shapes, at the cost of resident memory (bench/README.md compares the
/// choices).
const KEEP_FOR: u64 = 1;
/// Most bytes kept in the cache for one invocation in flight (as reserved;
/// what stays resident is less).
pub const CACHE_LIMIT: usize = 8 * 1024 * 1024;
/// Most bytes kept in the cache whatever the concurrency.
const CACHE_LIMIT_MAX: usize = 64 * 1024 * 1024;
/// Alignment dlmalloc and the system give without asking (and the cache keeps).
const ALIGN: usize = 16;

/// The cache of large blocks.
///
/// Sized for the invocations in flight ([`CachingAllocator::size_for`]): with
/// one at a time (classic Lambda) it keeps two blocks per size class for one
/// invocation, and with Managed Instances' N at once, two per class for each
/// of them, kept for N invocations, within N times the limit (at most
/// [`CACHE_LIMIT_MAX`]). Sized for one while N run at once, the cache
/// would hand nearly every large block back to the system, and every
/// invocation would map fresh memory and fault it in again.
pub struct CachingAllocator {
    slots: [[AtomicPtr<u8>; SLOTS]; CLASSES],
    /// The invocation during which each slot's block was freed.
    stamps: [[AtomicU64; SLOTS]; CLASSES],
    cached: AtomicUsize,
    invocation: AtomicU64,
    /// Invocations in flight at most, less one: zero until sized, so the
    /// whole cache starts zeroed (in .bss, not in the binary).
    more_in_flight: AtomicUsize,
}

impl CachingAllocator {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        #[allow(clippy::declare_interior_mutable_const)]
        const EMPTY: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: AtomicU64 = AtomicU64::new(0);
        #[allow(clippy::declare_interior_mutable_const)]
        const CLASS: [AtomicPtr<u8>; SLOTS] = [EMPTY; SLOTS];
        #[allow(clippy::declare_interior_mutable_const)]
        const STAMPS: [AtomicU64; SLOTS] = [ZERO; SLOTS];
        CachingAllocator {
            slots: [CLASS; CLASSES],
            stamps: [STAMPS; CLASSES],
            cached: AtomicUsize::new(0),
            invocation: AtomicU64::new(0),
            more_in_flight: AtomicUsize::new(0),
        }
    }

    /// Sizes the cache for `in_flight` invocations at once (at start-up,
    /// before any is served; 1 is the size it starts with).
    pub fn size_for(&self, in_flight: usize) {
        self.more_in_flight
            .store(in_flight.max(1) - 1, Ordering::Relaxed);
    }

    /// Invocations in flight at most.
    fn in_flight(&self) -> usize {
        self.more_in_flight.load(Ordering::Relaxed) + 1
    }

    /// Invocations an unused block is kept for.
    fn keep_for(&self) -> u64 {
        KEEP_FOR * self.in_flight() as u64
    }

    /// Most bytes kept.
    fn limit(&self) -> usize {
        CACHE_LIMIT
            .saturating_mul(self.in_flight())
            .min(CACHE_LIMIT_MAX)
    }

    /// The slots of `class` in use, with their stamps (the rest stay empty).
    fn slots_of(&self, class: usize) -> impl Iterator<Item = (&AtomicPtr<u8>, &AtomicU64)> {
        let n = (SLOTS_PER_INVOCATION * self.in_flight()).min(SLOTS);
        self.slots[class][..n].iter().zip(&self.stamps[class][..n])
    }

    /// Bytes held in the cache now (what the tests check).
    #[cfg(test)]
    pub fn cached_bytes(&self) -> usize {
        self.cached.load(Ordering::Relaxed)
    }

    /// Marks the end of an invocation: blocks no invocation has used in the
    /// last [`KEEP_FOR`] per invocation in flight go back to the system.
    pub fn end_of_invocation(&self) {
        let ended = self.invocation.fetch_add(1, Ordering::Relaxed);
        if self.cached.load(Ordering::Relaxed) == 0 {
            return;
        }
        let keep_for = self.keep_for();
        for class in 0..CLASSES {
            for (slot, stamp) in self.slots_of(class) {
                if stamp.load(Ordering::Relaxed) + keep_for > ended
                    || slot.load(Ordering::Relaxed).is_null()
                {
                    continue;
                }
                let block = slot.swap(std::ptr::null_mut(), Ordering::Acquire);
                if !block.is_null() {
                    self.cached.fetch_sub(class_size(class), Ordering::Relaxed);
                    // SAFETY: a block in a slot came from `System.alloc` with
                    // its class's layout (`alloc_block`), and the swap took it
                    // out of the cache, so it is freed once, by its owner.
                    unsafe { System.dealloc(block, class_layout(class)) };
                }
            }
        }
    }

    /// `GlobalAlloc::alloc` through the cache.
    ///
    /// # Safety
    /// As `GlobalAlloc::alloc`: `layout` has a non-zero size.
    unsafe fn alloc_block(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout.size(), layout.align()) else {
            // SAFETY: the caller's contract is dlmalloc's.
            return unsafe { DLMALLOC.alloc(layout) };
        };
        for (slot, _) in self.slots_of(class) {
            if slot.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let block = slot.swap(std::ptr::null_mut(), Ordering::Acquire);
            if !block.is_null() {
                self.cached.fetch_sub(class_size(class), Ordering::Relaxed);
                return block;
            }
        }
        // Large blocks come straight from the system (musl maps them), so a
        // block the cache lets go of is given back to the system at once.
        // SAFETY: a class layout has a size of at least 64 KiB.
        unsafe { System.alloc(class_layout(class)) }
    }

    /// `GlobalAlloc::dealloc` through the cache.
    ///
    /// # Safety
    /// As `GlobalAlloc::dealloc`: `ptr` came from `alloc_block` (or
    /// `realloc_block`) of this cache with `layout`, and is not used again.
    unsafe fn free_block(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout.size(), layout.align()) else {
            // SAFETY: a block outside the classes came from dlmalloc with `layout`.
            return unsafe { DLMALLOC.dealloc(ptr, layout) };
        };
        let size = class_size(class);
        if self.cached.fetch_add(size, Ordering::Relaxed) + size <= self.limit() {
            let now = self.invocation.load(Ordering::Relaxed);
            for (slot, stamp) in self.slots_of(class) {
                if slot.load(Ordering::Relaxed).is_null() {
                    stamp.store(now, Ordering::Relaxed);
                    if slot
                        .compare_exchange(
                            std::ptr::null_mut(),
                            ptr,
                            Ordering::Release,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                    {
                        return;
                    }
                }
            }
        }
        self.cached.fetch_sub(size, Ordering::Relaxed);
        // SAFETY: a block of a class came from `System.alloc` with that
        // class's layout (`alloc_block`), and the cache did not keep it.
        unsafe { System.dealloc(ptr, class_layout(class)) };
    }

    /// `GlobalAlloc::realloc` through the cache.
    ///
    /// # Safety
    /// As `GlobalAlloc::realloc`: `ptr` came from this cache with `layout`,
    /// `new_size` is non-zero and, rounded up to `layout.align()`, fits in
    /// `isize`.
    unsafe fn realloc_block(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_class = class_of(layout.size(), layout.align());
        let new_class = class_of(new_size, layout.align());
        match (old_class, new_class) {
            // Neither is cached: dlmalloc can grow in place.
            // SAFETY: the caller's contract is dlmalloc's realloc's.
            (None, None) => unsafe { DLMALLOC.realloc(ptr, layout, new_size) },
            // Still fits the block it has.
            (Some(a), Some(b)) if a == b => ptr,
            _ => {
                // SAFETY: the caller guarantees `new_size` with this
                // alignment is a valid layout (GlobalAlloc::realloc's contract).
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: `new_size` is non-zero (the caller's contract).
                let new = unsafe { self.alloc_block(new_layout) };
                if !new.is_null() {
                    // SAFETY: `ptr` holds `layout.size()` bytes and `new`
                    // at least `new_size`, two distinct blocks; then `ptr`
                    // is freed once, with the layout it was allocated with.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.free_block(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

/// The process's cache (used when [`Global`] is the global allocator).
pub static CACHE: CachingAllocator = CachingAllocator::new();

/// The global allocator of the `portside` binary: [`CACHE`] over dlmalloc.
pub struct Global;

// SAFETY: every block handed out is either dlmalloc's (for its layout) or
// a whole block of a size class of at least the requested size and ALIGN
// alignment (larger alignments go to dlmalloc), never handed out twice
// before it is freed (slots are taken with an atomic swap), and freed to
// where it came from; `realloc` keeps the bytes up to the smaller size.
unsafe impl GlobalAlloc for Global {
    // Out of line: inlined into every allocation site they would grow the binary.
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: GlobalAlloc::alloc's contract is alloc_block's.
        unsafe { CACHE.alloc_block(layout) }
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc::dealloc's contract is free_block's.
        unsafe { CACHE.free_block(ptr, layout) }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc::realloc's contract is realloc_block's.
        unsafe { CACHE.realloc_block(ptr, layout, new_size) }
    }
}

/// Marks the end of an invocation (see [`CachingAllocator::end_of_invocation`]).
pub fn end_of_invocation() {
    CACHE.end_of_invocation();
}

/// Sizes the process's cache for `in_flight` invocations at once (see
/// [`CachingAllocator::size_for`]).
pub fn size_for(in_flight: usize) {
    CACHE.size_for(in_flight);
}

/// The size class of a block of `size` bytes, if it is cached.
fn class_of(size: usize, align: usize) -> Option<usize> {
    if size < MIN_CACHED || align > ALIGN {
        return None;
    }
    let bits = usize::BITS - (size - 1).leading_zeros();
    let class = bits.saturating_sub(FIRST_CLASS_BITS) as usize;
    (class < CLASSES).then_some(class)
}

fn class_size(class: usize) -> usize {
    1 << (FIRST_CLASS_BITS as usize + class)
}

fn class_layout(class: usize) -> Layout {
    // A power of two of at least 64 KiB with alignment 16 is always valid.
    Layout::from_size_align(class_size(class), ALIGN).unwrap_or(Layout::new::<u8>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_powers_of_two() {
        assert_eq!(class_of(60_000, 8), None);
        assert_eq!(class_of(64 * 1024, 8), Some(0));
        assert_eq!(class_of(64 * 1024 + 1, 8), Some(1));
        assert_eq!(class_of(1 << 20, 8), Some(4));
        assert_eq!(class_of(16 << 20, 8), Some(8));
        assert_eq!(class_of((16 << 20) + 1, 8), None);
        assert_eq!(class_of(1 << 20, 4096), None);
    }

    #[test]
    fn freed_blocks_are_reused_grown_in_place_and_bounded() {
        let cache = CachingAllocator::new();
        // SAFETY: every block is allocated by this cache with a non-zero
        // layout, used within its size, and freed once with its layout.
        unsafe {
            let layout = Layout::from_size_align(300_000, 8).unwrap();
            let a = cache.alloc_block(layout);
            a.write_bytes(7, layout.size());
            cache.free_block(a, layout);
            assert_eq!(cache.cached_bytes(), 512 * 1024);
            // The same block comes back for any size of its class.
            let b = cache.alloc_block(Layout::from_size_align(400_000, 8).unwrap());
            assert_eq!(a, b);
            assert_eq!(cache.cached_bytes(), 0);
            // Growing within the class keeps the block and its bytes.
            let c = cache.realloc_block(b, Layout::from_size_align(400_000, 8).unwrap(), 500_000);
            assert_eq!(c, b);
            assert_eq!(*c.add(299_999), 7);
            // Growing past it moves the bytes.
            let d = cache.realloc_block(c, Layout::from_size_align(500_000, 8).unwrap(), 600_000);
            assert_ne!(d, c);
            assert_eq!(*d.add(299_999), 7);
            cache.free_block(d, Layout::from_size_align(600_000, 8).unwrap());

            // Never more than the limit.
            let big = Layout::from_size_align(4 << 20, 8).unwrap();
            let blocks: Vec<*mut u8> = (0..4).map(|_| cache.alloc_block(big)).collect();
            for &p in &blocks {
                cache.free_block(p, big);
            }
            assert!(
                cache.cached_bytes() <= CACHE_LIMIT,
                "{}",
                cache.cached_bytes()
            );
        }
    }

    #[test]
    fn a_block_unused_for_keep_for_invocations_is_given_back() {
        let cache = CachingAllocator::new();
        let layout = Layout::from_size_align(100_000, 8).unwrap();
        // SAFETY: as above: this cache's blocks, freed once with their layout.
        unsafe {
            // Invocation 0 frees a block: kept.
            let a = cache.alloc_block(layout);
            cache.free_block(a, layout);
            cache.end_of_invocation();
            assert_eq!(cache.cached_bytes(), 128 * 1024);
            // Invocation 1 reuses it and frees it again: still kept.
            let b = cache.alloc_block(layout);
            assert_eq!(a, b);
            cache.free_block(b, layout);
            cache.end_of_invocation();
            assert_eq!(cache.cached_bytes(), 128 * 1024);
            // Invocations that do not use it: kept for KEEP_FOR of them, then gone.
            let mut unused = 1;
            while unused < KEEP_FOR {
                cache.end_of_invocation();
                assert_eq!(cache.cached_bytes(), 128 * 1024);
                unused += 1;
            }
            cache.end_of_invocation();
            assert_eq!(cache.cached_bytes(), 0);
        }
    }

    #[test]
    fn sized_for_n_in_flight_it_keeps_two_blocks_per_class_for_each_for_n_invocations() {
        const N: usize = 8;
        let cache = CachingAllocator::new();
        cache.size_for(N);
        let small = Layout::from_size_align(65_536, 8).unwrap();
        let large = Layout::from_size_align(100_000, 8).unwrap();
        // SAFETY: this cache's blocks, written within their size and freed
        // once with the layout they were allocated with.
        unsafe {
            // N invocations in flight, each with a 64 KiB and a 128 KiB block.
            let blocks: Vec<(*mut u8, *mut u8)> = (0..N)
                .map(|_| (cache.alloc_block(small), cache.alloc_block(large)))
                .collect();
            for &(a, b) in &blocks {
                a.write_bytes(1, small.size());
                b.write_bytes(2, large.size());
                cache.free_block(a, small);
                cache.free_block(b, large);
                cache.end_of_invocation();
            }
            // Every block kept (sized for one, only two per class would be).
            assert_eq!(cache.cached_bytes(), N * (64 + 128) * 1024);
            // The next N invocations get those same blocks back.
            let mut again: Vec<*mut u8> = (0..N)
                .flat_map(|_| [cache.alloc_block(small), cache.alloc_block(large)])
                .collect();
            let mut before: Vec<*mut u8> = blocks.iter().flat_map(|&(a, b)| [a, b]).collect();
            again.sort();
            before.sort();
            assert_eq!(again, before, "no block came fresh from the system");
            assert_eq!(cache.cached_bytes(), 0);
            for &p in &again {
                let layout = if blocks.iter().any(|&(a, _)| a == p) {
                    small
                } else {
                    large
                };
                cache.free_block(p, layout);
            }
            // Unused for N invocations: kept; one more, and they are gone.
            for _ in 0..N {
                cache.end_of_invocation();
                assert_eq!(cache.cached_bytes(), N * (64 + 128) * 1024);
            }
            cache.end_of_invocation();
            assert_eq!(cache.cached_bytes(), 0);
        }
    }

    #[test]
    fn sized_for_many_in_flight_it_never_holds_more_than_its_bound() {
        let cache = CachingAllocator::new();
        cache.size_for(1000);
        let big = Layout::from_size_align(4 << 20, 8).unwrap();
        // SAFETY: as above.
        unsafe {
            let blocks: Vec<*mut u8> = (0..40).map(|_| cache.alloc_block(big)).collect();
            for &p in &blocks {
                cache.free_block(p, big);
            }
        }
        assert!(
            cache.cached_bytes() <= CACHE_LIMIT_MAX,
            "{}",
            cache.cached_bytes()
        );
        assert_eq!(cache.cached_bytes(), CACHE_LIMIT_MAX, "filled to the bound");
    }
}
