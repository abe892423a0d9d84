//! The 1Password vault-permissions bundle attached to a vault holding a
//! personal and two shared 1Password vaults.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vaultferry::model::{SourceKind, Vault};

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    let mut vault = Vault::new(SourceKind::Onepassword1pux, "fuzz.1pux");
    vault.ensure_folder(&["Private".to_owned()], false);
    vault.ensure_folder(&["Engineering".to_owned()], true);
    vault.ensure_folder(&["Vendors".to_owned()], true);
    vault.ensure_folder(&["Finance".to_owned()], true);
    let _ = vaultferry::sources::onepassword::read_sharing(&mut vault, bytes, "fuzz-permissions.json", &options);
});
