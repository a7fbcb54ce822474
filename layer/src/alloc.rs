//! The adapter's memory allocator: dlmalloc, for every allocation.
//!
//! Owns: where the adapter's memory comes from (the `portside` binary and the
//! benchmarks install [`Global`]).
//! Must not: hold per-invocation state; it is a choice of allocator, not a
//! cache with policies of its own.
//!
//! Why not musl's: it hands every allocation over ~128 KiB straight to `mmap`
//! and back to `munmap` when freed, and returns the pages of emptied groups
//! of small blocks too. An invocation with a 1 MiB body allocates a few large
//! buffers (the event, the decoded body, the result JSON), so each one mapped
//! fresh memory and paid a page fault for every 4 KiB it touched: about a
//! thousand faults, most of its CPU time, spent in the kernel.
//!
//! Why not a cache of large blocks in front of musl's (what this module held
//! until it was measured against plain dlmalloc): hyper's read buffers grow
//! adaptively, so the sizes a large body is read into differ from one
//! invocation to the next; a cache by size class kept missing (~190 faults
//! per 1 MiB upload) however many blocks per class it kept, and lending a
//! larger block to a smaller request doubled the faults.
//!
//! dlmalloc keeps freed memory in its bins and coalesces neighbours, so any
//! mix of sizes lands in memory already mapped: no page faults in steady
//! state. The price is that memory a large invocation used stays resident
//! (dlmalloc gives back only a free top over 2 MiB and wholly free segments):
//! bench/ measured peak RSS after 1 MiB bodies 8.4 MB against the cache's
//! 8.1 MB, for ~27 % less CPU per 1 MiB upload.

/// The global allocator of the `portside` binary.
pub use dlmalloc::GlobalDlmalloc as Global;
