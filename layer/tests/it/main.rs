//! The adapter's integration tests, one binary with a module per concern:
//! the real `portside` binary against portside-local's Runtime API (and
//! cargo-lambda's), a real HTTP app whose every byte the tests control, the
//! shim under real shells, and the inputs the fuzz targets found wrong.
//! One binary, so a change to the adapter links once, not once per concern.
//! `cargo test -p portside --test it <module>::` runs one concern.

mod support;

mod adapter;
mod emulators;
mod faults;
mod fuzz_regressions;
mod lifecycle;
mod limits;
mod observability;
mod retry;
mod shim;
mod streaming;
mod websocket;
