//! `Vault` + `Policy` + workspace `Snapshot` → `Plan`.

mod plan;

pub use plan::*;
