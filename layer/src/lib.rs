//! portside: the adapter library. See ARCHITECTURE.md at the repository root.
