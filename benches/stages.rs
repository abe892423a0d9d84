//! In-process benchmarks of each pipeline stage on generated exports.
//!
//! Exports of `BENCH_ENTRIES` (default 10 000) entries are generated into a
//! temporary directory when the bench starts (`vaultferry::generate`, fixed
//! seed), so every run measures the same bytes.
//!
//!     cargo bench --bench stages
//!
//! Stages: parse (three formats), map, and diff against the workspace the
//! plan was mapped for (every item new: hashing each planned item is the
//! cost). Applying into SQLite is measured by `benches/apply.rs`.

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vaultferry::diff;
use vaultferry::generate::{self, Format};
use vaultferry::mapper;
use vaultferry::policy::Policy;
use vaultferry::sources::{self, ParseOptions};

fn stages(c: &mut Criterion) {
    let n = common::entries();
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
    let vault = common::read_with_sharing(
        &dir.path().join("export.lastpass-csv"),
        &dir.path().join("export.lastpass-csv.sharing.json"),
    );
    let (_ws, snapshot) = common::fresh_workspace(&dir.path().join("ws.db"), &common::sample_seed());
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
        // The vault is moved into the plan: each iteration maps a fresh copy
        // (made outside the timed part).
        b.iter_batched(
            || vault.clone(),
            |v| mapper::map(v, &policy, &snapshot, &importer).expect("map"),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let plan = mapper::map(vault, &policy, &snapshot, &importer).expect("map");
    let mut group = c.benchmark_group("diff");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(n as u64));
    let planned = plan.accounts.len() + plan.secrets.len();
    let cs = diff::diff(plan.clone(), &snapshot, false);
    assert_eq!(
        cs.reconcile().created,
        planned,
        "a fresh workspace: every planned item is a create"
    );
    group.bench_function(format!("lastpass-csv/{n}"), |b| {
        b.iter_batched(
            || plan.clone(),
            |p| diff::diff(p, &snapshot, false),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
