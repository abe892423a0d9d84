//! Helpers for end-to-end tests that drive the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary produced.
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole run shown unless it exited with `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit status\n{}", self.describe());
        self
    }

    pub fn success(self) -> Run {
        self.expect_code(0)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.describe()))
    }

    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// The repository root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `samples/`.
pub fn sample(rel: &str) -> PathBuf {
    root().join("samples").join(rel)
}

/// Runs `vaultferry ARGS` in `cwd` with a clean environment.
pub fn vaultferry_in(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vaultferry"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .expect("run vaultferry");
    Run {
        command: format!("vaultferry {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `vaultferry ARGS` from the repository root.
pub fn vaultferry(args: &[&str]) -> Run {
    vaultferry_in(&root(), args)
}

/// Fails if any of `secrets` appears in `text`; `what` names the output.
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        if s.len() >= 4 {
            assert!(
                !text.contains(s.as_str()),
                "secret value {s:?} leaked into {what}:\n{text}"
            );
        }
    }
}

/// The secret values in an `inspect --json --reveal` document: passwords,
/// TOTPs, concealed fields, password history and attachment contents.
pub fn secrets_in_revealed(json: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in json["entries"].as_array().into_iter().flatten() {
        for key in ["password", "totp"] {
            if let Some(s) = e[key].as_str() {
                out.push(s.to_owned());
            }
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            if f["concealed"] == true {
                if let Some(s) = f["value"].as_str() {
                    out.push(s.to_owned());
                }
            }
        }
        for h in e["password_history"].as_array().into_iter().flatten() {
            if let Some(s) = h["value"].as_str() {
                out.push(s.to_owned());
            }
        }
        for a in e["attachments"].as_array().into_iter().flatten() {
            if let Some(s) = a["content"].as_str() {
                out.push(s.to_owned());
            }
        }
    }
    out.retain(|s| s.trim().len() >= 4 && s != "[redacted]");
    out
}

/// A sample export and its sharing file, under `samples/`.
pub struct Source {
    pub export: &'static str,
    pub sharing: &'static str,
}

pub const LASTPASS: Source = Source {
    export: "lastpass/company.csv",
    sharing: "lastpass/sharing-getdetailedsfdata.json",
};

pub const ONEPASSWORD: Source = Source {
    export: "onepassword/company.1pux",
    sharing: "onepassword/permissions.json",
};

/// A fresh workspace database in `dir`, seeded with the sample company
/// through the real `workspace init`.
pub fn northwind_db(dir: &Path) -> PathBuf {
    let db = dir.join("northwind.db");
    let seed = sample("workspace.toml");
    vaultferry(&[
        "workspace",
        "init",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        seed.to_str().unwrap(),
    ])
    .success();
    db
}
