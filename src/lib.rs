//! vaultferry: LastPass and 1Password exports → a shared workspace of
//! collections, accounts and secrets, with who had access to what.
//!
//! Data flows one way (see ARCHITECTURE.md):
//! `sources` → [`model::Vault`] → `mapper` (+ `policy`) → Plan → `diff`
//! → `report` / `apply` → `workspace`. Each stage is a plain function over
//! plain data; only `apply` writes.

pub mod apply;
pub mod cli;
pub mod diff;
pub mod docs;
mod error;
pub mod export;
pub mod generate;
pub mod import;
pub mod mapper;
pub mod model;
pub mod policy;
pub mod report;
pub mod secret;
pub mod server;
pub mod sources;
pub mod verify;
pub mod workspace;

pub use error::Error;
pub use secret::Secret;
