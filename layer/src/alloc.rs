//! The adapter's memory allocator: dlmalloc, with a small cache of large
//! blocks in front of it.
//!
//! Owns: where the adapter's memory comes from, and keeping freed buffers of
//! 64 KiB and more for the next invocation.
//! Must not: hold more than [`CACHE_LIMIT`] bytes in the cache.
//!
//! Why not the system's: musl hands every allocation over ~128 KiB straight
//! to `mmap` and back to `munmap` when freed, and returns the pages of emptied
//! groups of small blocks too. An invocation with a 1 MiB body allocates a few
//! large buffers (the event, the decoded body, the base64 result, the JSON),
//! so each one mapped fresh memory and paid a page fault for every 4 KiB it
//! touched: about a thousand faults, most of its CPU time, spent in the
//! kernel; even a small invocation unmapped and re-faulted two pages.
//! dlmalloc keeps freed small blocks in its bins; large blocks are rounded up
//! to a power of two and a few per size are kept here, handed out again
//! already mapped, and grown within their size without a copy. Peak memory
//! barely moves: the cached blocks are the ones the last invocation used.

use std::alloc::{GlobalAlloc, Layout};

use dlmalloc::GlobalDlmalloc as Dlmalloc;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Blocks at least this large are cached.
const MIN_CACHED: usize = 64 * 1024;
/// Size classes: 64 KiB (2^16) to 16 MiB (2^24).
const FIRST_CLASS_BITS: u32 = 16;
const CLASSES: usize = 9;
/// Blocks kept per size class.
const SLOTS: usize = 4;
/// Most bytes kept in the cache.
pub const CACHE_LIMIT: usize = 24 * 1024 * 1024;
/// Alignment dlmalloc gives without asking (and the cache keeps).
const ALIGN: usize = 16;

/// The global allocator: dlmalloc with a cache of large blocks.
pub struct CachingAllocator {
    slots: [[AtomicPtr<u8>; SLOTS]; CLASSES],
    cached: AtomicUsize,
}

impl CachingAllocator {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        #[allow(clippy::declare_interior_mutable_const)]
        const EMPTY: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
        #[allow(clippy::declare_interior_mutable_const)]
        const CLASS: [AtomicPtr<u8>; SLOTS] = [EMPTY; SLOTS];
        CachingAllocator {
            slots: [CLASS; CLASSES],
            cached: AtomicUsize::new(0),
        }
    }

    /// Bytes held in the cache now.
    pub fn cached_bytes(&self) -> usize {
        self.cached.load(Ordering::Relaxed)
    }
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

unsafe impl GlobalAlloc for CachingAllocator {
    // Out of line: inlined into every allocation site it would grow the binary.
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout.size(), layout.align()) else {
            return Dlmalloc.alloc(layout);
        };
        for slot in &self.slots[class] {
            let block = slot.swap(std::ptr::null_mut(), Ordering::Acquire);
            if !block.is_null() {
                self.cached.fetch_sub(class_size(class), Ordering::Relaxed);
                return block;
            }
        }
        Dlmalloc.alloc(class_layout(class))
    }

    // Out of line: inlined into every allocation site it would grow the binary.
    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout.size(), layout.align()) else {
            return Dlmalloc.dealloc(ptr, layout);
        };
        let size = class_size(class);
        if self.cached.fetch_add(size, Ordering::Relaxed) + size <= CACHE_LIMIT {
            for slot in &self.slots[class] {
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
        self.cached.fetch_sub(size, Ordering::Relaxed);
        Dlmalloc.dealloc(ptr, class_layout(class));
    }

    // Out of line: inlined into every allocation site it would grow the binary.
    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_class = class_of(layout.size(), layout.align());
        let new_class = class_of(new_size, layout.align());
        match (old_class, new_class) {
            // Neither is cached: dlmalloc can grow in place.
            (None, None) => Dlmalloc.realloc(ptr, layout, new_size),
            // Still fits the block it has.
            (Some(a), Some(b)) if a == b => ptr,
            _ => {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
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
    fn freed_blocks_are_reused_and_the_cache_is_bounded() {
        let cache = CachingAllocator::new();
        unsafe {
            let layout = Layout::from_size_align(300_000, 8).unwrap();
            let a = cache.alloc(layout);
            a.write_bytes(7, layout.size());
            cache.dealloc(a, layout);
            assert_eq!(cache.cached_bytes(), 512 * 1024);
            // The same block comes back for any size of its class.
            let b = cache.alloc(Layout::from_size_align(400_000, 8).unwrap());
            assert_eq!(a, b);
            assert_eq!(cache.cached_bytes(), 0);
            // Growing within the class keeps the block and its bytes.
            let c = cache.realloc(b, Layout::from_size_align(400_000, 8).unwrap(), 500_000);
            assert_eq!(c, b);
            assert_eq!(*c.add(299_999), 7);
            // Growing past it moves the bytes.
            let d = cache.realloc(c, Layout::from_size_align(500_000, 8).unwrap(), 600_000);
            assert_ne!(d, c);
            assert_eq!(*d.add(299_999), 7);
            cache.dealloc(d, Layout::from_size_align(600_000, 8).unwrap());

            // Never more than the limit.
            let big = Layout::from_size_align(8 << 20, 8).unwrap();
            let blocks: Vec<*mut u8> = (0..5).map(|_| cache.alloc(big)).collect();
            for &p in &blocks {
                cache.dealloc(p, big);
            }
            assert!(
                cache.cached_bytes() <= CACHE_LIMIT,
                "{}",
                cache.cached_bytes()
            );
        }
    }
}
