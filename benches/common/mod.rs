//! Setup shared by the in-process benches: the export size, a generated
//! LastPass export read with its sharing, and the sample workspace.

use std::path::Path;

use vaultferry::model::Vault;
use vaultferry::sources::{self, ParseOptions};
use vaultferry::workspace::seed::{self, Seed};
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::{Snapshot, Workspace};

/// Entries per generated export: `BENCH_ENTRIES`, default 10 000.
pub fn entries() -> usize {
    std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// The export at `export` with its sharing file, read as `plan` reads them.
pub fn read_with_sharing(export: &Path, sharing: &Path) -> Vault {
    let options = ParseOptions::default();
    let mut vault = sources::read_export(export, &options).expect("parse");
    sources::read_sharing(&mut vault, sharing, &options).expect("sharing");
    vault
}

/// `samples/workspace.toml`, the README's workspace.
pub fn sample_seed() -> Seed {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    seed::load(&root.join("samples/workspace.toml"), None).expect("seed")
}

/// A fresh workspace at `db` from `seed`, and its snapshot.
pub fn fresh_workspace(db: &Path, seed: &Seed) -> (SqliteWorkspace, Snapshot) {
    let ws = SqliteWorkspace::create(db, true).expect("workspace");
    ws.init(seed).expect("init");
    let snapshot = ws.snapshot().expect("snapshot");
    (ws, snapshot)
}
