//! LastPass shared-folder files (Enterprise API JSON, web API JSON and XML)
//! attached to a small vault with a private and three shared folders.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vaultferry::model::{SourceKind, Vault};

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    let mut vault = Vault::new(SourceKind::LastpassCsv, "fuzz.csv");
    vault.ensure_folder(&["Private".to_owned()], false);
    vault.ensure_folder(&["Shared-Engineering".to_owned()], true);
    vault.ensure_folder(&["Shared-Finance".to_owned(), "Payroll".to_owned()], true);
    vault.ensure_folder(&["Shared-Vendors".to_owned()], true);
    let _ = vaultferry::sources::lastpass::read_sharing(&mut vault, bytes, "fuzz-sharing.json", &options);
});
