//! End-to-end and cross-adapter tests of Intake live in `tests/`.
