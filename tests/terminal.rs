//! What the terminal shows: nothing printed by default grows with the
//! number of entries (the plan before the question, the end of a run, a
//! re-run); `--verbose` lists, `--quiet` prints nothing but errors.

mod common;

use std::path::Path;

use common::{sample, vaultferry_in, Run};

const ENTRIES: &str = "20000";

/// A generated export of [`ENTRIES`] entries and a seeded workspace in `dir`.
fn generated(dir: &Path) {
    vaultferry_in(
        dir,
        &[
            "generate",
            "--format",
            "lastpass-csv",
            "--entries",
            ENTRIES,
            "--out",
            "e.csv",
        ],
    )
    .success();
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir,
        &["workspace", "init", "--db", "w.db", "--seed", seed.to_str().unwrap()],
    )
    .success();
}

fn run(dir: &Path, command: &str, extra: &[&str]) -> Run {
    let mut args = vec![command, "--db", "w.db", "e.csv", "--sharing", "e.csv.sharing.json"];
    if command == "migrate" {
        args.push("--yes");
    }
    args.extend_from_slice(extra);
    vaultferry_in(dir, &args).success()
}

/// Lines on stdout and stderr together, and the longest of them.
fn shape(run: &Run) -> (usize, usize) {
    let lines = run.stdout.lines().chain(run.stderr.lines());
    let (n, longest) = lines.fold((0, 0), |(n, w), l| (n + 1, w.max(l.chars().count())));
    (n, longest)
}

fn assert_short(what: &str, run: &Run) {
    let (lines, longest) = shape(run);
    assert!(
        lines < 100 && longest <= 400,
        "{what} of {ENTRIES} entries printed {lines} lines, the longest {longest} characters\n{}",
        run.describe()
    );
}

#[test]
fn plan_migrate_and_a_no_op_rerun_of_20k_entries_print_under_100_lines() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path());
    let plan = run(dir.path(), "plan", &[]);
    assert_short("plan", &plan);
    // What the lists are cut from is still said, in numbers.
    assert!(plan.stdout.contains("collections: 84"), "{}", plan.describe());
    assert!(
        plan.stdout
            .contains("unmatched users (lose their access, not invited): 36"),
        "{}",
        plan.describe()
    );
    let first = run(dir.path(), "migrate", &[]);
    assert_short("migrate", &first);
    assert!(first.stdout.contains("written: "), "{}", first.describe());
    assert!(
        first.stdout.contains("invitations: 4 written to w.db.outbox"),
        "{}",
        first.describe()
    );
    assert!(first.stdout.contains("(holds)"), "{}", first.describe());
    let again = run(dir.path(), "migrate", &[]);
    assert_short("a no-op re-run", &again);
    assert!(again.stdout.contains("written: 0 objects"), "{}", again.describe());
}

#[test]
fn verbose_lists_every_collection_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path());
    let verbose = run(dir.path(), "plan", &["--verbose"]);
    let (lines, _) = shape(&verbose);
    // 84 collections, 36 unmatched users and 76 findings, a line each.
    assert!(lines > 84 + 36 + 76, "{}", verbose.describe());
    let quiet = run(dir.path(), "migrate", &["-q"]);
    assert_eq!(
        (quiet.stdout.as_str(), quiet.stderr.as_str()),
        ("", ""),
        "{}",
        quiet.describe()
    );
    // Quiet or not, the run happened.
    let again = run(dir.path(), "migrate", &[]);
    assert!(again.stdout.contains("written: 0 objects"), "{}", again.describe());
}

/// A LastPass CSV whose findings each point at one line: an attachment
/// flag (line 2), a bad timestamp (line 3), an unknown note type (line 4),
/// a stray quote (line 5) and a row with too few fields (line 6).
const LINED: &str =
    "url,username,password,totp,extra,name,grouping,fav,id,last_modified_gmt,last_touch,attachpresent\n\
https://a.example,ann,Lined-Pw-1a,,,Alpha,Work,0,101,,,1\n\
https://b.example,bob,Lined-Pw-2b,,,Bravo,Work,0,102,yesterday,,0\n\
http://sn,,,,\"NoteType:Spaceship\nWarp:9\",Charlie,Work,0,103,,,0\n\
https://d.example,\"dan,Lined-Pw-4d,,,Delta,Work,0,104,,,0\n\
https://e.example,eve,Lined-Pw-5e\n";

#[test]
fn bug_line_240_line_240_a_finding_names_its_line_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lined.csv"), LINED).unwrap();
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "w.db", "--seed", seed.to_str().unwrap()],
    )
    .success();
    let plan = vaultferry_in(dir.path(), &["plan", "--db", "w.db", "lined.csv", "--verbose"]).success();
    let inspect = vaultferry_in(dir.path(), &["inspect", "lined.csv"]).success();
    let strict = vaultferry_in(dir.path(), &["inspect", "lined.csv", "--strict"]);
    for (what, text) in [
        ("plan", &plan.stdout),
        ("inspect", &inspect.stdout),
        ("inspect --strict", &strict.stderr),
    ] {
        let lined: Vec<&str> = text.lines().filter(|l| l.contains("lined.csv:line")).collect();
        assert!(!lined.is_empty(), "{what} names no line:\n{text}");
        for l in lined {
            let n = l.matches("line ").count();
            assert_eq!(n, 1, "{what} names the line more than once: {l}");
        }
    }
    for code in [
        "lastpass.attachment-not-exported",
        "lastpass.bad-timestamp",
        "lastpass.unknown-note-type",
        "lastpass.row-recovered",
        "lastpass.row-skipped",
    ] {
        assert_eq!(
            plan.stdout.matches(code).count(),
            1,
            "{code} printed once:\n{}",
            plan.stdout
        );
    }
}

#[test]
fn bug_reports_were_world_readable_unnamed_and_undated() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "w.db", "--seed", seed.to_str().unwrap()],
    )
    .success();
    // One left from an earlier run, readable by everyone.
    std::fs::write(dir.path().join("r.html"), "old").unwrap();
    std::fs::set_permissions(dir.path().join("r.html"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let export = sample("lastpass/company.csv");
    let sharing = sample("lastpass/sharing-getdetailedsfdata.json");
    let (export, sharing) = (export.to_str().unwrap(), sharing.to_str().unwrap());
    let mut args = vec!["plan", "--db", "w.db", export, "--sharing", sharing];
    for f in ["r.html", "r.json", "r.md", "r.csv"] {
        args.extend(["--report", f]);
    }
    let run = vaultferry_in(dir.path(), &args).success();
    for f in ["r.html", "r.json", "r.md", "r.csv"] {
        let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f} is not owner-only");
        assert_eq!(
            run.stderr.matches(&format!("wrote {f}\n")).count(),
            1,
            "{}",
            run.describe()
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let g = &json["generated"];
    assert_eq!(g["inputs"], serde_json::json!([export, sharing]));
    assert_eq!(g["store"], "w.db");
    assert_eq!(g["by"], format!("vaultferry {}", env!("CARGO_PKG_VERSION")));
    assert!(
        g["at"].as_str().unwrap().starts_with("20") && g["at"].as_str().unwrap().ends_with('Z'),
        "{g}"
    );
    for f in ["r.html", "r.md"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(
            text.contains("Generated ") || text.contains("Generated: "),
            "{f} has no header"
        );
        assert!(
            text.contains(g["at"].as_str().unwrap()) && text.contains("against w.db"),
            "{f}"
        );
    }
}

/// `vaultferry ARGS` in `dir` on a pseudo-terminal of 120 columns
/// (`script`, util-linux), stdin closed: what a user at a terminal sees,
/// escape sequences and redraws included.
fn on_a_terminal(dir: &Path, args: &[&str]) -> String {
    let bin = env!("CARGO_BIN_EXE_vaultferry");
    let command = format!("stty cols 120 rows 50; '{bin}' {}", args.join(" "));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{command}\n{text}");
    text
}

#[test]
fn on_a_terminal_reading_the_export_shows_a_bar_with_its_rate_and_eta() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path());
    let shown = on_a_terminal(
        dir.path(),
        &["plan", "--db", "w.db", "e.csv", "--sharing", "e.csv.sharing.json"],
    );
    let bar = shown
        .split(['\r', '\n'])
        .find(|l| l.contains("reading, mapping and comparing the export ["))
        .unwrap_or_else(|| panic!("no reading bar:\n{shown}"));
    assert!(
        bar.contains("% of the lines, ") && bar.contains(" lines/s, ETA "),
        "{bar}"
    );
    // The summary is still all there, after the bar went away.
    assert!(shown.contains("collections: 84"), "{shown}");
    let quiet = on_a_terminal(dir.path(), &["-q", "plan", "--db", "w.db", "e.csv"]);
    assert_eq!(quiet.trim(), "", "--quiet draws nothing, even on a terminal");
}

#[test]
fn on_a_terminal_reading_a_1pux_shows_a_bar_of_its_export_data_with_rate_and_eta() {
    // A 1PUX is a zip: no lines to count, so the bar follows export.data
    // as it unpacks.
    let dir = tempfile::tempdir().unwrap();
    vaultferry_in(
        dir.path(),
        &["generate", "--format", "1pux", "--entries", ENTRIES, "--out", "e.1pux"],
    )
    .success();
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "w.db", "--seed", seed.to_str().unwrap()],
    )
    .success();
    let shown = on_a_terminal(dir.path(), &["plan", "--db", "w.db", "e.1pux"]);
    let bar = shown
        .split(['\r', '\n'])
        .find(|l| l.contains("reading, mapping and comparing the export ["))
        .unwrap_or_else(|| panic!("no reading bar:\n{shown}"));
    assert!(bar.contains("% of export.data, ") && bar.contains("/s, ETA "), "{bar}");
}

#[test]
fn piped_each_reading_and_planning_stage_is_one_plain_line() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path());
    let planned = run(dir.path(), "plan", &[]);
    let stages: Vec<&str> = planned.stderr.lines().filter(|l| l.ends_with('…')).collect();
    assert!(
        stages.contains(&"reading the workspace…") && stages.contains(&"reading, mapping and comparing the export…"),
        "{}",
        planned.describe()
    );
    assert!(
        !planned.stderr.contains('\r') && !planned.stderr.contains('\u{1b}'),
        "no bar drawn into a pipe"
    );
    let quiet = run(dir.path(), "plan", &["-q"]);
    assert!(!quiet.stderr.contains('…'), "{}", quiet.describe());
}

#[test]
fn inspect_and_plan_give_a_findings_location_in_one_shape_before_its_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lined.csv"), LINED).unwrap();
    let seed = sample("workspace.toml");
    vaultferry_in(
        dir.path(),
        &["workspace", "init", "--db", "w.db", "--seed", seed.to_str().unwrap()],
    )
    .success();
    let inspect = vaultferry_in(dir.path(), &["inspect", "lined.csv"]).success();
    let plan = vaultferry_in(dir.path(), &["plan", "--db", "w.db", "lined.csv"]).success();
    let verbose = vaultferry_in(dir.path(), &["plan", "--db", "w.db", "lined.csv", "--verbose"]).success();
    // What follows `[code]` (and the count of a group): the location.
    let located = |text: &str, code: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("[{code}]")))
            .unwrap_or_else(|| panic!("no {code} in\n{text}"));
        let after = line.split_once(&format!("[{code}]")).unwrap().1;
        let after = after.split_once(": ").map_or(after, |(_, rest)| rest);
        after.trim_start_matches("e.g. ").to_owned()
    };
    for (code, at) in [
        ("lastpass.bad-timestamp", "lined.csv:line 3: "),
        ("lastpass.unknown-note-type", "lined.csv:line 4: "),
        // The note of line 4 spans two lines: the short row is line 7.
        ("lastpass.row-skipped", "lined.csv:line 7: "),
    ] {
        for (what, text) in [
            ("inspect", &inspect.stdout),
            ("plan", &plan.stdout),
            ("plan --verbose", &verbose.stdout),
        ] {
            let shown = located(text, code);
            assert!(
                shown.starts_with(at),
                "{what} shows {code} as {shown:?}, not starting with {at:?}"
            );
        }
    }
}
