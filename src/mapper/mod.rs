//! `Vault` + `Policy` + workspace `Snapshot` → `Plan`.
