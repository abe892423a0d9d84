//! In-process benchmarks of each pipeline stage on generated exports.
//!
//! Exports of `BENCH_ENTRIES` (default 10 000) entries are generated into a
//! temporary directory when the bench starts (`vaultferry::generate`, fixed
//! seed), so every run measures the same bytes.
//!
//!     cargo bench --bench stages
//!
//! TODO(diff, apply): add `diff::diff(&plan, &snapshot)` and `apply` into a
//! fresh SQLite workspace (first run and re-run) here once `src/diff` and
//! `src/apply` are on main.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vaultferry::generate::{self, Format};
use vaultferry::mapper;
use vaultferry::policy::Policy;
use vaultferry::sources::{self, ParseOptions};
use vaultferry::workspace::seed;
use vaultferry::workspace::sqlite::SqliteWorkspace;
use vaultferry::workspace::Workspace;

fn entries() -> usize {
    std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn stages(c: &mut Criterion) {
    let n = entries();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("parse");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(n as u64));
    for (format, name) in [
        (Format::LastpassCsv, "lastpass-csv"),
        (Format::Pux, "1pux"),
        (Format::Pif, "1pif"),
    ] {
        let path = dir.path().join(format!("export.{name}"));
        let sharing = dir.path().join(format!("export.{name}.sharing.json"));
        generate::generate(format, n, 1, &path, &sharing).expect("generate");
        group.bench_function(format!("{name}/{n}"), |b| {
            b.iter(|| sources::read_export(&path, &ParseOptions::default()).expect("parse"))
        });
    }
    group.finish();

    // map: the LastPass export with its sharing, against the sample workspace.
    let path = dir.path().join("export.lastpass-csv");
    let options = ParseOptions::default();
    let mut vault = sources::read_export(&path, &options).expect("parse");
    sources::read_sharing(
        &mut vault,
        &dir.path().join("export.lastpass-csv.sharing.json"),
        &options,
    )
    .expect("sharing");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).expect("seed");
    let db = dir.path().join("ws.db");
    let ws = SqliteWorkspace::create(&db, true).expect("workspace");
    ws.init(&seed).expect("init");
    let snapshot = ws.snapshot().expect("snapshot");
    let policy = Policy::default();
    let importer = mapper::resolve_importer(&snapshot, None)
        .expect("importer")
        .email
        .clone();
    let mut group = c.benchmark_group("map");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("lastpass-csv/{n}"), |b| {
        b.iter_batched(
            || (),
            |()| mapper::map(&vault, &policy, &snapshot, &importer).expect("map"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
