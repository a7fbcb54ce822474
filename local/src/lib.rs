//! portside-local: a local AWS Lambda. See ARCHITECTURE.md at the repository root.
