//! The store side of `migrate`, in process: what the SQLite workspace costs
//! once parsing and mapping are done.
//!
//! A LastPass export of `BENCH_ENTRIES` (default 10 000) entries with its
//! sharing is generated at bench start (fixed seed) and mapped against a
//! workspace created from `samples/workspace.toml`. Measured:
//!
//! - `apply/first`: `apply::apply` of the whole changeset into a fresh
//!   workspace (creating and seeding the database is not timed);
//! - `apply/rerun`: the re-run of the same export against the populated
//!   workspace: the base snapshot, map, the items read against the plan's
//!   hashes (`diff::against_workspace`), diff and an apply with nothing to write;
//! - `apply/snapshot`: `Workspace::snapshot()` of the populated workspace.
//!
//! Run with:
//!
//!     cargo bench --bench apply
//!     BENCH_ENTRIES=100000 cargo bench --bench apply

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vaultferry::apply::{self, ApplyOptions, Silent};
use vaultferry::diff::{self, Changeset};
use vaultferry::generate::{self, Format};
use vaultferry::mapper;
use vaultferry::model::Vault;
use vaultferry::policy::Policy;
use vaultferry::workspace::seed::Seed;
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::{Snapshot, Workspace};

/// A fresh workspace at `db` from the sample seed, its snapshot, and the
/// changeset that imports `vault` into it.
fn fresh(db: &Path, seed: &Seed, vault: &Vault) -> (SqliteWorkspace, Snapshot, Changeset) {
    let (ws, snapshot) = common::fresh_workspace(db, seed);
    let cs = changeset(vault, &snapshot);
    (ws, snapshot, cs)
}

fn changeset(vault: &Vault, snapshot: &Snapshot) -> Changeset {
    let importer = mapper::resolve_importer(snapshot, None)
        .expect("importer")
        .email
        .clone();
    let plan = mapper::map(vault.clone(), &Policy::default(), snapshot, &importer).expect("map");
    diff::diff(plan, snapshot, false)
}

fn run_apply(cs: &Changeset, snapshot: &Snapshot, ws: &SqliteWorkspace, options: &ApplyOptions) -> usize {
    apply::apply(cs, snapshot, ws, options, &mut Silent)
        .expect("apply")
        .written
}

fn bench(c: &mut Criterion) {
    let n = common::entries();
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("export.csv");
    let sharing = dir.path().join("export.csv.sharing.json");
    generate::generate(Format::LastpassCsv, n, 1, &export, &sharing).expect("generate");
    let vault = common::read_with_sharing(&export, &sharing);
    let seed = common::sample_seed();
    let apply_options = ApplyOptions::new("bench", dir.path().join("outbox"));

    // Once outside the timed loops: the first run writes every item, and
    // the re-run nothing, or the bench would silently measure nothing.
    let db = dir.path().join("populated.db");
    let (populated, snapshot, cs) = fresh(&db, &seed, &vault);
    let items = cs.plan.accounts.len() + cs.plan.secrets.len();
    assert!(items > 0, "the generated export maps to no items");
    assert!(run_apply(&cs, &snapshot, &populated, &apply_options) >= items);
    let stored = populated.snapshot().expect("snapshot");
    assert_eq!(stored.accounts.len() + stored.secrets.len(), items);
    assert_eq!(changeset(&vault, &stored).to_write(), 0, "the re-run has work to do");

    let mut group = c.benchmark_group("apply");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(items as u64));

    group.bench_function(format!("first/{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let db = dir.path().join(format!("first-{i}.db"));
                let (ws, snapshot, cs) = fresh(&db, &seed, &vault);
                let start = Instant::now();
                run_apply(&cs, &snapshot, &ws, &apply_options);
                total += start.elapsed();
                drop(ws);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
            }
            total
        })
    });

    group.bench_function(format!("rerun/{n}"), |b| {
        b.iter(|| {
            // As `migrate` compares: items read once the plan's hashes are
            // known, intact ones without content.
            let mut snapshot = populated.snapshot_base().expect("snapshot");
            let importer = mapper::resolve_importer(&snapshot, None)
                .expect("importer")
                .email
                .clone();
            let plan = mapper::map_entries(vault.clone(), &Policy::default(), &snapshot, &importer).expect("map");
            let cs = diff::against_workspace(&populated, plan, &mut snapshot, false).expect("compare");
            run_apply(&cs, &snapshot, &populated, &apply_options)
        })
    });

    group.bench_function(format!("snapshot/{n}"), |b| {
        b.iter(|| populated.snapshot().expect("snapshot"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
