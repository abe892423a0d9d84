//! The shape of a member's page query: what keeps it one bounded read at
//! any size (tests/guestview.rs times it on a 20k-entry store).

use super::SqliteWorkspace;
use crate::workspace::seed;

#[test]
fn a_page_of_accounts_reads_in_id_order_from_the_members_grants_and_stops_at_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = seed::load(&root.join("samples/workspace.toml"), None).unwrap();
    let ws = SqliteWorkspace::create(&dir.path().join("ws.db"), false).unwrap();
    ws.init(&seed).unwrap();
    let plan = ws.account_page_plan();
    let text = plan.join("\n");
    // Accounts walked by id from the cursor: no sort of every reachable
    // row before the first one is returned.
    assert!(
        plan.iter().any(|l| l == "SEARCH a USING INTEGER PRIMARY KEY (rowid>?)"),
        "{text}"
    );
    assert!(!text.contains("FOR ORDER BY"), "{text}");
    // The member's grants found by grantee, subcollections by parent: never
    // a scan of every grant or collection.
    assert!(text.contains("SEARCH g USING INDEX grants_grantee"), "{text}");
    assert!(text.contains("USING COVERING INDEX collections_parent"), "{text}");
    assert!(text.contains("USING INDEX team_members_member"), "{text}");
    assert!(
        !text.contains("SCAN g") && !text.contains("SCAN c\n") && !text.ends_with("SCAN c"),
        "{text}"
    );
}
