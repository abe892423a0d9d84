//! The schema, as an ordered list of migrations kept in the code.
//!
//! `PRAGMA user_version` is the number of migrations applied; each step and
//! its bookkeeping row (with a checksum of its SQL) are written in one
//! transaction, so a step never runs twice or half. A database written by a
//! newer vaultferry, or whose history differs from this binary's, is refused
//! rather than guessed at.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// Migration `i` (0-based) brings the schema to version `i + 1`. Append
/// only: never edit a released step (the checksum check would refuse every
/// database created with it).
pub const MIGRATIONS: &[&str] = &[
    V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14, V15, V16, V17,
];

/// The schema version this binary writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

const V1: &str = r#"
CREATE TABLE workspace (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    pw_min_length INTEGER NOT NULL,
    pw_require_uppercase INTEGER NOT NULL,
    pw_require_lowercase INTEGER NOT NULL,
    pw_require_digit INTEGER NOT NULL,
    pw_require_symbol INTEGER NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE domains (
    domain TEXT PRIMARY KEY COLLATE NOCASE
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT,
    role TEXT NOT NULL CHECK (role IN ('owner', 'super_admin', 'admin', 'user', 'login_only', 'guest')),
    directory_managed INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('invited', 'active', 'suspended', 'removed')),
    -- Members the identity provider manages are regular members, never guests.
    CHECK (NOT (role = 'guest' AND directory_managed))
);
-- Exactly one workspace owner (a second one is refused; the seed checks there is one).
CREATE UNIQUE INDEX one_owner ON members (role) WHERE role = 'owner';
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    import_key TEXT UNIQUE
);
CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, member_id)
);
CREATE TABLE local_partners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    import_key TEXT UNIQUE
);
CREATE TABLE partner_domains (
    partner_id INTEGER NOT NULL REFERENCES local_partners (id) ON DELETE CASCADE,
    -- A domain belongs to one partner, so a sharer's partner is never ambiguous.
    domain TEXT NOT NULL UNIQUE COLLATE NOCASE,
    PRIMARY KEY (partner_id, domain)
);
CREATE TABLE partner_members (
    partner_id INTEGER NOT NULL REFERENCES local_partners (id) ON DELETE CASCADE,
    -- A guest belongs to at most one partner.
    member_id INTEGER NOT NULL UNIQUE REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('guest_admin', 'guest_user')),
    PRIMARY KEY (partner_id, member_id)
);
CREATE TRIGGER partner_members_are_guests BEFORE INSERT ON partner_members
WHEN (SELECT role FROM members WHERE id = NEW.member_id) IS NOT 'guest'
BEGIN
    SELECT RAISE(ABORT, 'rule: a local partner''s guest admins and guest users must be guests');
END;
CREATE TABLE partnerships (
    id INTEGER PRIMARY KEY,
    -- At most one partnership per guest workspace.
    partner_workspace_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'accepted', 'declined'))
);
CREATE TABLE partnership_domains (
    partnership_id INTEGER NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    domain TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (partnership_id, domain)
);
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES collections (id) ON DELETE CASCADE,
    import_key TEXT UNIQUE,
    imported_hash TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER REFERENCES collections (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    url TEXT,
    urls TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(urls)),
    username TEXT,
    password TEXT,
    totp TEXT,
    notes TEXT,
    -- Fields with their values, secrets included (the workspace is where passwords go).
    fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
    tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    import_key TEXT UNIQUE,
    imported_hash TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE secrets (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER REFERENCES collections (id) ON DELETE SET NULL,
    type TEXT NOT NULL CHECK (type IN ('secret', 'wifi', 'ssh_key', 'database', 'server', 'software_license', 'custom')),
    title TEXT NOT NULL,
    notes TEXT,
    fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
    tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    import_key TEXT UNIQUE,
    imported_hash TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    secret_id INTEGER REFERENCES secrets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    content BLOB,
    source_id TEXT,
    CHECK ((account_id IS NULL) <> (secret_id IS NULL))
);
CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('collection', 'account', 'secret')),
    target_id INTEGER NOT NULL,
    grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('member', 'team', 'partner', 'partnership')),
    grantee_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'collaborator')),
    import_key TEXT UNIQUE,
    UNIQUE (target_kind, target_id, grantee_kind, grantee_id)
);
-- Grants point at one of several tables, so triggers stand in for foreign keys.
CREATE TRIGGER grants_target_exists BEFORE INSERT ON grants
WHEN NOT CASE NEW.target_kind
    WHEN 'collection' THEN EXISTS (SELECT 1 FROM collections WHERE id = NEW.target_id)
    WHEN 'account' THEN EXISTS (SELECT 1 FROM accounts WHERE id = NEW.target_id)
    WHEN 'secret' THEN EXISTS (SELECT 1 FROM secrets WHERE id = NEW.target_id)
    ELSE 0 END
BEGIN
    SELECT RAISE(ABORT, 'rule: the grant''s collection, account or secret does not exist');
END;
CREATE TRIGGER grants_grantee_exists BEFORE INSERT ON grants
WHEN NOT CASE NEW.grantee_kind
    WHEN 'member' THEN EXISTS (SELECT 1 FROM members WHERE id = NEW.grantee_id)
    WHEN 'team' THEN EXISTS (SELECT 1 FROM teams WHERE id = NEW.grantee_id)
    WHEN 'partner' THEN EXISTS (SELECT 1 FROM local_partners WHERE id = NEW.grantee_id)
    WHEN 'partnership' THEN EXISTS (SELECT 1 FROM partnerships WHERE id = NEW.grantee_id)
    ELSE 0 END
BEGIN
    SELECT RAISE(ABORT, 'rule: the grant''s member, team or partner does not exist');
END;
CREATE TRIGGER grants_guests_collaborate BEFORE INSERT ON grants
WHEN NEW.grantee_kind = 'member' AND NEW.role <> 'collaborator'
    AND (SELECT role FROM members WHERE id = NEW.grantee_id) IN ('guest', 'login_only')
BEGIN
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators');
END;
CREATE TRIGGER grants_manager_on_accounts BEFORE INSERT ON grants
WHEN NEW.role = 'manager' AND NEW.target_kind <> 'account'
BEGIN
    SELECT RAISE(ABORT, 'rule: the manager role exists only on accounts');
END;
CREATE TRIGGER collections_delete_grants AFTER DELETE ON collections BEGIN
    DELETE FROM grants WHERE target_kind = 'collection' AND target_id = OLD.id;
END;
CREATE TRIGGER accounts_delete_grants AFTER DELETE ON accounts BEGIN
    DELETE FROM grants WHERE target_kind = 'account' AND target_id = OLD.id;
END;
CREATE TRIGGER secrets_delete_grants AFTER DELETE ON secrets BEGIN
    DELETE FROM grants WHERE target_kind = 'secret' AND target_id = OLD.id;
END;
CREATE TRIGGER members_delete_grants AFTER DELETE ON members BEGIN
    DELETE FROM grants WHERE grantee_kind = 'member' AND grantee_id = OLD.id;
END;
CREATE TRIGGER teams_delete_grants AFTER DELETE ON teams BEGIN
    DELETE FROM grants WHERE grantee_kind = 'team' AND grantee_id = OLD.id;
END;
CREATE TABLE guest_invitations (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL UNIQUE REFERENCES members (id) ON DELETE CASCADE,
    username TEXT NOT NULL UNIQUE,
    -- The temporary password is never stored: only its salted hash.
    password_hash TEXT NOT NULL,
    salt TEXT NOT NULL,
    partner_id INTEGER REFERENCES local_partners (id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'accepted', 'expired')),
    import_key TEXT UNIQUE,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL
);
CREATE TABLE import_runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    source_file TEXT NOT NULL,
    actor TEXT,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'aborted'))
);
CREATE TABLE run_journal (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
    import_key TEXT NOT NULL,
    action TEXT NOT NULL,
    content_hash TEXT,
    time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (run_id, import_key, action)
);
"#;

/// V2: runs a crash left `running` are marked `interrupted` by the next
/// run (V1's CHECK did not allow it), and each run keeps its summary
/// counts. SQLite cannot change a CHECK in place, so the table is rebuilt;
/// `connect` runs migrations before enabling foreign keys, so dropping the
/// old table does not cascade into `run_journal`.
const V2: &str = r#"
CREATE TABLE import_runs_v2 (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    source_file TEXT NOT NULL,
    actor TEXT,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'aborted', 'interrupted')),
    summary TEXT
);
INSERT INTO import_runs_v2 (id, started, finished, source_file, actor, state)
    SELECT id, started, finished, source_file, actor, state FROM import_runs;
DROP TABLE import_runs;
ALTER TABLE import_runs_v2 RENAME TO import_runs;
CREATE INDEX run_journal_run ON run_journal (run_id);
"#;

/// V3: what `vaultferry serve` keeps. API keys are stored as a SHA-256 of
/// the key (see `sqlite::service`); import jobs keep their state here, not
/// in memory, so a restarted server knows which were cut off; idempotency
/// records replay a write's response when a client retries it.
const V3: &str = r#"
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'parsing', 'planned', 'applying', 'done', 'failed', 'cancelled')),
    progress TEXT NOT NULL DEFAULT '{}',
    summary TEXT,
    error TEXT,
    resumable INTEGER NOT NULL DEFAULT 0,
    upload_dir TEXT,
    export_name TEXT NOT NULL,
    sharing_name TEXT,
    policy_name TEXT,
    report_json TEXT,
    report_html TEXT,
    report_csv TEXT,
    run_id TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE idempotency_records (
    member_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (member_id, key)
);
"#;

/// V4: what makes a million-item re-run and first run fast.
///
/// `imported_intact` is 1 while an account or secret holds exactly what the
/// importer last wrote (whose content hash is `imported_hash`), so the next
/// run can decide "unchanged" from the stored hash without loading and
/// re-hashing the item. Only the import path sets it; the triggers clear it
/// on any other change to what the content hash covers: the row itself
/// (an edit, a move, its collection deleted), its attachments, or the
/// import key of its collection. A cleared flag only costs that item a
/// full comparison, never a wrong "unchanged".
///
/// `run_journal_run` is dropped: the `(run_id, import_key, action)` unique
/// index already serves lookups by run, and keeping a second index cost
/// every journal row another b-tree insert.
const V4: &str = r#"
DROP INDEX run_journal_run;
ALTER TABLE accounts ADD COLUMN imported_intact INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN imported_intact INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER accounts_edited AFTER UPDATE ON accounts
WHEN OLD.imported_intact = 1 AND NEW.imported_intact = 1
BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id = NEW.id;
END;
CREATE TRIGGER secrets_edited AFTER UPDATE ON secrets
WHEN OLD.imported_intact = 1 AND NEW.imported_intact = 1
BEGIN
    UPDATE secrets SET imported_intact = 0 WHERE id = NEW.id;
END;
CREATE TRIGGER attachments_added AFTER INSERT ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id = NEW.account_id AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id = NEW.secret_id AND imported_intact = 1;
END;
CREATE TRIGGER attachments_changed AFTER UPDATE ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id IN (OLD.account_id, NEW.account_id) AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id IN (OLD.secret_id, NEW.secret_id) AND imported_intact = 1;
END;
CREATE TRIGGER attachments_removed AFTER DELETE ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id = OLD.account_id AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id = OLD.secret_id AND imported_intact = 1;
END;
CREATE TRIGGER collections_rekeyed AFTER UPDATE OF import_key ON collections
WHEN OLD.import_key IS NOT NEW.import_key
BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE collection_id = NEW.id AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE collection_id = NEW.id AND imported_intact = 1;
END;
"#;

/// V5: the same rules on `secrets` and `grants`, checked for less, and a
/// journal without a unique index.
///
/// SQLite checks `x IN ('a', 'b', 'c')` with three or more constants by
/// building a temporary b-tree of the list on every row it inserts, which
/// made the type check of a secret and the three checks of a grant most of
/// their insert's cost (a grant insert cost three times an account's). The
/// checks are now written as `x = 'a' OR x = 'b' OR …`, which SQLite checks
/// in place. The four rules on inserted grants are one trigger, run once
/// per insert instead of four times. What is allowed is unchanged.
///
/// SQLite cannot change a CHECK in place, so both tables are rebuilt (the
/// documented procedure: new table, copy, drop, rename) and their triggers
/// made again. `legacy_alter_table` keeps the rename from rewriting the
/// other tables' triggers, which already name `secrets` and `grants`.
const V5: &str = r#"
PRAGMA legacy_alter_table = ON;
CREATE TABLE secrets_v5 (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER REFERENCES collections (id) ON DELETE SET NULL,
    type TEXT NOT NULL CHECK (type = 'secret' OR type = 'wifi' OR type = 'ssh_key' OR type = 'database'
        OR type = 'server' OR type = 'software_license' OR type = 'custom'),
    title TEXT NOT NULL,
    notes TEXT,
    fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
    tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    import_key TEXT UNIQUE,
    imported_hash TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    imported_intact INTEGER NOT NULL DEFAULT 0
);
INSERT INTO secrets_v5 (id, collection_id, type, title, notes, fields, tags, import_key, imported_hash, created,
                        imported_intact)
    SELECT id, collection_id, type, title, notes, fields, tags, import_key, imported_hash, created, imported_intact
    FROM secrets;
DROP TABLE secrets;
ALTER TABLE secrets_v5 RENAME TO secrets;
CREATE TRIGGER secrets_delete_grants AFTER DELETE ON secrets BEGIN
    DELETE FROM grants WHERE target_kind = 'secret' AND target_id = OLD.id;
END;
CREATE TRIGGER secrets_edited AFTER UPDATE ON secrets
WHEN OLD.imported_intact = 1 AND NEW.imported_intact = 1
BEGIN
    UPDATE secrets SET imported_intact = 0 WHERE id = NEW.id;
END;
CREATE TABLE grants_v5 (
    id INTEGER PRIMARY KEY,
    target_kind TEXT NOT NULL CHECK (target_kind = 'collection' OR target_kind = 'account' OR target_kind = 'secret'),
    target_id INTEGER NOT NULL,
    grantee_kind TEXT NOT NULL CHECK (grantee_kind = 'member' OR grantee_kind = 'team' OR grantee_kind = 'partner'
        OR grantee_kind = 'partnership'),
    grantee_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role = 'owner' OR role = 'manager' OR role = 'collaborator'),
    import_key TEXT UNIQUE,
    UNIQUE (target_kind, target_id, grantee_kind, grantee_id)
);
INSERT INTO grants_v5 (id, target_kind, target_id, grantee_kind, grantee_id, role, import_key)
    SELECT id, target_kind, target_id, grantee_kind, grantee_id, role, import_key FROM grants;
DROP TABLE grants;
ALTER TABLE grants_v5 RENAME TO grants;
-- Grants point at one of several tables, so a trigger stands in for foreign
-- keys; the rules are checked in this order and the first broken one is named.
CREATE TRIGGER grants_rules BEFORE INSERT ON grants BEGIN
    SELECT RAISE(ABORT, 'rule: the grant''s collection, account or secret does not exist')
    WHERE NOT CASE NEW.target_kind
        WHEN 'collection' THEN EXISTS (SELECT 1 FROM collections WHERE id = NEW.target_id)
        WHEN 'account' THEN EXISTS (SELECT 1 FROM accounts WHERE id = NEW.target_id)
        WHEN 'secret' THEN EXISTS (SELECT 1 FROM secrets WHERE id = NEW.target_id)
        ELSE 0 END;
    SELECT RAISE(ABORT, 'rule: the grant''s member, team or partner does not exist')
    WHERE NOT CASE NEW.grantee_kind
        WHEN 'member' THEN EXISTS (SELECT 1 FROM members WHERE id = NEW.grantee_id)
        WHEN 'team' THEN EXISTS (SELECT 1 FROM teams WHERE id = NEW.grantee_id)
        WHEN 'partner' THEN EXISTS (SELECT 1 FROM local_partners WHERE id = NEW.grantee_id)
        WHEN 'partnership' THEN EXISTS (SELECT 1 FROM partnerships WHERE id = NEW.grantee_id)
        ELSE 0 END;
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators')
    WHERE NEW.grantee_kind = 'member' AND NEW.role <> 'collaborator'
        AND (SELECT role FROM members WHERE id = NEW.grantee_id) IN ('guest', 'login_only');
    SELECT RAISE(ABORT, 'rule: the manager role exists only on accounts')
    WHERE NEW.role = 'manager' AND NEW.target_kind <> 'account';
END;
-- The journal gets a row per object a run writes (a million on a big first
-- run): no unique (run, key, action) index to keep in order beside it, only
-- one by run, whose rows are appended at its end.
CREATE TABLE run_journal_v5 (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
    import_key TEXT NOT NULL,
    action TEXT NOT NULL,
    content_hash TEXT,
    time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO run_journal_v5 (id, run_id, import_key, action, content_hash, time)
    SELECT id, run_id, import_key, action, content_hash, time FROM run_journal;
DROP TABLE run_journal;
ALTER TABLE run_journal_v5 RENAME TO run_journal;
CREATE INDEX run_journal_run ON run_journal (run_id);
PRAGMA legacy_alter_table = OFF;
"#;

/// V6: "guests and login-only members only ever hold Collaborator" by every
/// path, not only by a grant made to the person.
///
/// V5 checked a grant made to a guest or login-only member and nothing
/// else, so a team holding Owner reached the guests in it, and so did a
/// grant raised later by an update. Now:
///
/// - a member grant to a guest or login-only member is Collaborator, or
///   Manager on an account when the member is a local partner's Guest
///   Admin (the one thing the product lets a guest hold beyond
///   Collaborator: a Guest Admin shares onward only accounts they manage);
/// - a team with a guest or login-only member holds Collaborator only, and
///   such a member cannot join a team that holds more;
/// - a local partner (its Guest Admins and Guest Users together) holds
///   Collaborator only; a partnership Collaborator or Manager;
/// - the same rules hold when a grant's role, grantee or target is updated,
///   when a member becomes a guest or login-only member, and when a Guest
///   Admin who manages accounts is made a Guest User.
///
/// Inheritance needs no rule of its own: a role on a collection reaches its
/// subcollections and items unchanged, and every role a guest can hold on a
/// collection is Collaborator. Rows written before V6 are not re-checked.
const V6: &str = r#"
DROP TRIGGER grants_rules;
CREATE TRIGGER grants_rules BEFORE INSERT ON grants BEGIN
    SELECT RAISE(ABORT, 'rule: the grant''s collection, account or secret does not exist')
    WHERE NOT CASE NEW.target_kind
        WHEN 'collection' THEN EXISTS (SELECT 1 FROM collections WHERE id = NEW.target_id)
        WHEN 'account' THEN EXISTS (SELECT 1 FROM accounts WHERE id = NEW.target_id)
        WHEN 'secret' THEN EXISTS (SELECT 1 FROM secrets WHERE id = NEW.target_id)
        ELSE 0 END;
    SELECT RAISE(ABORT, 'rule: the grant''s member, team or partner does not exist')
    WHERE NOT CASE NEW.grantee_kind
        WHEN 'member' THEN EXISTS (SELECT 1 FROM members WHERE id = NEW.grantee_id)
        WHEN 'team' THEN EXISTS (SELECT 1 FROM teams WHERE id = NEW.grantee_id)
        WHEN 'partner' THEN EXISTS (SELECT 1 FROM local_partners WHERE id = NEW.grantee_id)
        WHEN 'partnership' THEN EXISTS (SELECT 1 FROM partnerships WHERE id = NEW.grantee_id)
        ELSE 0 END;
    SELECT RAISE(ABORT, 'rule: the manager role exists only on accounts')
    WHERE NEW.role = 'manager' AND NEW.target_kind <> 'account';
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators (a local partner''s guest admin may also be manager of an account)')
    WHERE NEW.grantee_kind = 'member' AND (NEW.role = 'owner' OR NEW.role = 'manager')
        AND (SELECT role = 'guest' OR role = 'login_only' FROM members WHERE id = NEW.grantee_id)
        AND NOT (NEW.role = 'manager' AND NEW.target_kind = 'account'
            AND EXISTS (SELECT 1 FROM partner_members WHERE member_id = NEW.grantee_id AND kind = 'guest_admin'));
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: this team has a guest or login-only member, so it can only be a collaborator')
    WHERE NEW.grantee_kind = 'team' AND (NEW.role = 'owner' OR NEW.role = 'manager')
        AND EXISTS (SELECT 1 FROM team_members t JOIN members m ON m.id = t.member_id
                    WHERE t.team_id = NEW.grantee_id AND (m.role = 'guest' OR m.role = 'login_only'));
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: a local partner is its guests, so it can only be a collaborator')
    WHERE NEW.grantee_kind = 'partner' AND (NEW.role = 'owner' OR NEW.role = 'manager');
    SELECT RAISE(ABORT, 'rule: a partnership carries collaborator or manager only')
    WHERE NEW.grantee_kind = 'partnership' AND NEW.role = 'owner';
END;
CREATE TRIGGER grants_rules_on_update BEFORE UPDATE ON grants BEGIN
    SELECT RAISE(ABORT, 'rule: the manager role exists only on accounts')
    WHERE NEW.role = 'manager' AND NEW.target_kind <> 'account';
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators (a local partner''s guest admin may also be manager of an account)')
    WHERE NEW.grantee_kind = 'member' AND (NEW.role = 'owner' OR NEW.role = 'manager')
        AND (SELECT role = 'guest' OR role = 'login_only' FROM members WHERE id = NEW.grantee_id)
        AND NOT (NEW.role = 'manager' AND NEW.target_kind = 'account'
            AND EXISTS (SELECT 1 FROM partner_members WHERE member_id = NEW.grantee_id AND kind = 'guest_admin'));
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: this team has a guest or login-only member, so it can only be a collaborator')
    WHERE NEW.grantee_kind = 'team' AND (NEW.role = 'owner' OR NEW.role = 'manager')
        AND EXISTS (SELECT 1 FROM team_members t JOIN members m ON m.id = t.member_id
                    WHERE t.team_id = NEW.grantee_id AND (m.role = 'guest' OR m.role = 'login_only'));
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: a local partner is its guests, so it can only be a collaborator')
    WHERE NEW.grantee_kind = 'partner' AND (NEW.role = 'owner' OR NEW.role = 'manager');
    SELECT RAISE(ABORT, 'rule: a partnership carries collaborator or manager only')
    WHERE NEW.grantee_kind = 'partnership' AND NEW.role = 'owner';
END;
CREATE TRIGGER team_members_collaborate BEFORE INSERT ON team_members
WHEN (SELECT role = 'guest' OR role = 'login_only' FROM members WHERE id = NEW.member_id)
    AND EXISTS (SELECT 1 FROM grants WHERE grantee_kind = 'team' AND grantee_id = NEW.team_id AND role <> 'collaborator')
BEGIN
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: this team holds owner or manager, so a guest or login-only member cannot join it');
END;
CREATE TRIGGER members_become_collaborators BEFORE UPDATE OF role ON members
WHEN (NEW.role = 'guest' OR NEW.role = 'login_only')
    AND (EXISTS (SELECT 1 FROM grants WHERE grantee_kind = 'member' AND grantee_id = NEW.id AND role <> 'collaborator'
                 AND NOT (NEW.role = 'guest' AND role = 'manager' AND target_kind = 'account'
                          AND EXISTS (SELECT 1 FROM partner_members WHERE member_id = NEW.id AND kind = 'guest_admin')))
         OR EXISTS (SELECT 1 FROM team_members t JOIN grants g ON g.grantee_kind = 'team' AND g.grantee_id = t.team_id
                    WHERE t.member_id = NEW.id AND g.role <> 'collaborator'))
BEGIN
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: this member holds owner or manager (directly or through a team); lower those grants first');
END;
CREATE TRIGGER partner_admins_keep_manager BEFORE UPDATE OF kind ON partner_members
WHEN NEW.kind <> 'guest_admin'
    AND EXISTS (SELECT 1 FROM grants WHERE grantee_kind = 'member' AND grantee_id = NEW.member_id AND role = 'manager')
BEGIN
    SELECT RAISE(ABORT, 'rule: guests and login-only members can only be collaborators: this guest admin manages accounts; lower those grants before making them a guest user');
END;
"#;

/// V7: what the importer created, remembered after an admin deletes it,
/// and which source each run read.
///
/// An object's `import_key` column says the importer wrote it only while
/// the row exists, so an admin's deletion (a revoked grant, a removed
/// account, a member taken off a team) left nothing behind and the next run
/// created it again. `import_ledger` holds a row per object the importer
/// created, written in the batch that creates it; the delete triggers stamp
/// `removed`, so the next run reads the few removed keys instead of
/// comparing every key. A team membership has no import key: its row is
/// keyed by team and member in `import_ledger_members`. Objects written
/// before V7 are entered with no run (their memberships cannot be told
/// apart from an admin's and are not). The rekey triggers follow an
/// object whose import key is changed in place.
///
/// `import_run_scopes` names the source each run read (vendor and the
/// owner of the vault): what a run may call "gone from the source" is only
/// what a run of the same source created.
const V7: &str = r#"
CREATE TABLE import_ledger (
    import_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id TEXT,
    removed TEXT
) WITHOUT ROWID;
CREATE INDEX import_ledger_removed ON import_ledger (removed) WHERE removed IS NOT NULL;
CREATE TABLE import_ledger_members (
    team_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    run_id TEXT,
    removed TEXT,
    PRIMARY KEY (team_id, member_id)
) WITHOUT ROWID;
CREATE TABLE import_run_scopes (
    run_id TEXT PRIMARY KEY,
    scope TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'collection' FROM collections WHERE import_key IS NOT NULL;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'account' FROM accounts WHERE import_key IS NOT NULL;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'secret' FROM secrets WHERE import_key IS NOT NULL;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'grant' FROM grants WHERE import_key IS NOT NULL;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'team' FROM teams WHERE import_key IS NOT NULL;
INSERT OR IGNORE INTO import_ledger (import_key, kind) SELECT import_key, 'invitation' FROM guest_invitations WHERE import_key IS NOT NULL;
CREATE TRIGGER collections_removed AFTER DELETE ON collections WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER accounts_removed AFTER DELETE ON accounts WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER secrets_removed AFTER DELETE ON secrets WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER grants_removed AFTER DELETE ON grants WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER teams_removed AFTER DELETE ON teams WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER guest_invitations_removed AFTER DELETE ON guest_invitations WHEN OLD.import_key IS NOT NULL BEGIN
    UPDATE import_ledger SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER team_members_removed AFTER DELETE ON team_members BEGIN
    UPDATE import_ledger_members SET removed = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE team_id = OLD.team_id AND member_id = OLD.member_id;
END;
CREATE TRIGGER collections_ledger_rekeyed AFTER UPDATE OF import_key ON collections
WHEN OLD.import_key IS NOT NULL AND NEW.import_key IS NOT NULL AND OLD.import_key <> NEW.import_key BEGIN
    UPDATE OR IGNORE import_ledger SET import_key = NEW.import_key WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER accounts_ledger_rekeyed AFTER UPDATE OF import_key ON accounts
WHEN OLD.import_key IS NOT NULL AND NEW.import_key IS NOT NULL AND OLD.import_key <> NEW.import_key BEGIN
    UPDATE OR IGNORE import_ledger SET import_key = NEW.import_key WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER secrets_ledger_rekeyed AFTER UPDATE OF import_key ON secrets
WHEN OLD.import_key IS NOT NULL AND NEW.import_key IS NOT NULL AND OLD.import_key <> NEW.import_key BEGIN
    UPDATE OR IGNORE import_ledger SET import_key = NEW.import_key WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER grants_ledger_rekeyed AFTER UPDATE OF import_key ON grants
WHEN OLD.import_key IS NOT NULL AND NEW.import_key IS NOT NULL AND OLD.import_key <> NEW.import_key BEGIN
    UPDATE OR IGNORE import_ledger SET import_key = NEW.import_key WHERE import_key = OLD.import_key;
END;
CREATE TRIGGER teams_ledger_rekeyed AFTER UPDATE OF import_key ON teams
WHEN OLD.import_key IS NOT NULL AND NEW.import_key IS NOT NULL AND OLD.import_key <> NEW.import_key BEGIN
    UPDATE OR IGNORE import_ledger SET import_key = NEW.import_key WHERE import_key = OLD.import_key;
END;
"#;

/// V8: guest invitations follow an outbox.
///
/// An invitation's row and its `pending` outbox row commit together; the
/// email goes out after the commit, and only once the mail server accepted
/// it (or its `.eml` file is durably written) is it marked `delivered`. A
/// run that dies in between leaves it `pending`, and the next run delivers
/// it (with a new temporary password whose hash replaces the stored one in
/// its own commit first: the first password was only ever in memory).
/// Invitations written before V8 were mailed by the run that wrote them.
const V8: &str = r#"
CREATE TABLE invitation_outbox (
    invitation_id INTEGER PRIMARY KEY REFERENCES guest_invitations (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered'),
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered TEXT,
    via TEXT
);
INSERT INTO invitation_outbox (invitation_id, state, delivered, via)
    SELECT id, 'delivered', created, 'before the outbox' FROM guest_invitations;
"#;

/// V9: the ledger remembers only what was deleted.
///
/// V7's `import_ledger` took a row per object the importer created: at a
/// million items (and a grant each) two million more inserts and some
/// 190 MB, on the path a first run is timed on. What a run needs is only
/// the keys of importer-created objects someone deleted since: every
/// object with an import key is the importer's (nothing else sets one),
/// so the delete triggers write `import_removed` from the row being
/// deleted, and a first run writes nothing more. Which run created an
/// object (for "gone", bug 10) the journal already says.
const V9: &str = r#"
CREATE TABLE import_removed (
    import_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    removed TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO import_removed (import_key, kind, removed)
    SELECT import_key, kind, removed FROM import_ledger WHERE removed IS NOT NULL;
DROP TRIGGER collections_removed;
DROP TRIGGER accounts_removed;
DROP TRIGGER secrets_removed;
DROP TRIGGER grants_removed;
DROP TRIGGER teams_removed;
DROP TRIGGER guest_invitations_removed;
DROP TRIGGER collections_ledger_rekeyed;
DROP TRIGGER accounts_ledger_rekeyed;
DROP TRIGGER secrets_ledger_rekeyed;
DROP TRIGGER grants_ledger_rekeyed;
DROP TRIGGER teams_ledger_rekeyed;
DROP TABLE import_ledger;
CREATE TRIGGER collections_removed AFTER DELETE ON collections WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'collection', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
CREATE TRIGGER accounts_removed AFTER DELETE ON accounts WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'account', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
CREATE TRIGGER secrets_removed AFTER DELETE ON secrets WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'secret', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
CREATE TRIGGER grants_removed AFTER DELETE ON grants WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'grant', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
CREATE TRIGGER teams_removed AFTER DELETE ON teams WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'team', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
CREATE TRIGGER guest_invitations_removed AFTER DELETE ON guest_invitations WHEN OLD.import_key IS NOT NULL BEGIN
    INSERT OR REPLACE INTO import_removed (import_key, kind, removed)
        VALUES (OLD.import_key, 'invitation', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;
"#;

/// V10: the record of collections re-keyed from the import key an earlier
/// build gave their source folder to this build's (`formats/plan.md`,
/// "Workspaces keyed by an earlier build"). One row per move, written in
/// the transaction that makes it, so what moved and when stays known.
const V10: &str = r#"
CREATE TABLE key_moves (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL,
    from_key TEXT NOT NULL,
    to_key TEXT NOT NULL,
    grants INTEGER NOT NULL,
    moved TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
"#;

/// V11: attachments the importer writes carry the SHA-256 of their bytes, so a
/// re-run compares digests without reading gigabytes of blobs back.
const V11: &str = r#"
ALTER TABLE attachments ADD COLUMN content_sha256 TEXT;
"#;

/// V12: an attachment's bytes are the last column of its row. SQLite keeps
/// a `zeroblob(n)` unexpanded only when nothing follows it in the record;
/// with `source_id` and `content_sha256` after it, each streamed attachment
/// was first materialised as n zero bytes, twice (a 200 MB document cost
/// 400 MB of memory however it was streamed). The table is rebuilt (before
/// foreign keys are on, so nothing cascades) and its triggers re-made.
const V12: &str = r#"
CREATE TABLE attachments_v12 (
    id INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    secret_id INTEGER REFERENCES secrets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    source_id TEXT,
    content_sha256 TEXT,
    content BLOB,
    CHECK ((account_id IS NULL) <> (secret_id IS NULL))
);
INSERT INTO attachments_v12 (id, account_id, secret_id, name, size, source_id, content_sha256, content)
    SELECT id, account_id, secret_id, name, size, source_id, content_sha256, content FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_v12 RENAME TO attachments;
CREATE TRIGGER attachments_added AFTER INSERT ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id = NEW.account_id AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id = NEW.secret_id AND imported_intact = 1;
END;
CREATE TRIGGER attachments_changed AFTER UPDATE ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id IN (OLD.account_id, NEW.account_id) AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id IN (OLD.secret_id, NEW.secret_id) AND imported_intact = 1;
END;
CREATE TRIGGER attachments_removed AFTER DELETE ON attachments BEGIN
    UPDATE accounts SET imported_intact = 0 WHERE id = OLD.account_id AND imported_intact = 1;
    UPDATE secrets SET imported_intact = 0 WHERE id = OLD.secret_id AND imported_intact = 1;
END;
"#;

/// V13: a job's reports in pieces of at most 256 KiB, written as the
/// report renders and served one piece at a time. V3 kept each format as
/// one TEXT column of the job row: a 300k-entry plan's JSON is a hundred
/// megabytes, held whole in memory to render, to store, and again on every
/// read of the job (progress updates rewrote it several times a second).
/// `job_reports` names the finished version of each format (its
/// `generation`) so a report being replaced is never served half-written.
/// Reports already stored are cut into pieces, then the columns dropped.
const V13: &str = r#"
CREATE TABLE job_reports (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    format TEXT NOT NULL CHECK (format IN ('json', 'html', 'csv')),
    generation INTEGER NOT NULL,
    pieces INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (job_id, format)
);
CREATE TABLE job_report_pieces (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL CHECK (length(bytes) <= 262144),
    UNIQUE (job_id, format, generation, seq)
);
WITH RECURSIVE old (job_id, format, body) AS (
    SELECT id, 'json', CAST(report_json AS BLOB) FROM jobs WHERE report_json IS NOT NULL
    UNION ALL SELECT id, 'html', CAST(report_html AS BLOB) FROM jobs WHERE report_html IS NOT NULL
    UNION ALL SELECT id, 'csv', CAST(report_csv AS BLOB) FROM jobs WHERE report_csv IS NOT NULL
), cut (job_id, format, body, seq) AS (
    SELECT job_id, format, body, 0 FROM old WHERE length(body) > 0
    UNION ALL SELECT job_id, format, body, seq + 1 FROM cut WHERE (seq + 1) * 262144 < length(body)
)
INSERT INTO job_report_pieces (job_id, format, generation, seq, bytes)
    SELECT job_id, format, 1, seq, substr(body, seq * 262144 + 1, 262144) FROM cut;
INSERT INTO job_reports (job_id, format, generation, pieces, bytes)
    SELECT id, 'json', 1, (length(CAST(report_json AS BLOB)) + 262143) / 262144, length(CAST(report_json AS BLOB))
    FROM jobs WHERE report_json IS NOT NULL
    UNION ALL SELECT id, 'html', 1, (length(CAST(report_html AS BLOB)) + 262143) / 262144, length(CAST(report_html AS BLOB))
    FROM jobs WHERE report_html IS NOT NULL
    UNION ALL SELECT id, 'csv', 1, (length(CAST(report_csv AS BLOB)) + 262143) / 262144, length(CAST(report_csv AS BLOB))
    FROM jobs WHERE report_csv IS NOT NULL;
ALTER TABLE jobs DROP COLUMN report_json;
ALTER TABLE jobs DROP COLUMN report_html;
ALTER TABLE jobs DROP COLUMN report_csv;
"#;

/// V14: signing in. Members' passwords (Argon2id PHC strings, never the
/// password) in a table of their own; sessions stored as the SHA-256 of
/// their token (a copy of the database opens no session), with the join
/// step a guest still has to finish; failed sign-ins per account and per
/// source address, so they are slowed and locked across restarts; API keys
/// gain a non-secret prefix (what the audit log and `apikey list` name),
/// an expiry and a revocation time; a guest's temporary password is
/// marked used once it has opened a join session, and dated when it was
/// issued (a re-sent invitation issues a new one); the workspace says how
/// many days a temporary password lasts.
const V14: &str = r#"
CREATE TABLE member_passwords (
    member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE member_profiles (
    member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    given_name TEXT,
    family_name TEXT,
    terms_accepted INTEGER
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    pending TEXT CHECK (pending IN ('password', 'terms')),
    created INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);
CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failure INTEGER NOT NULL,
    locked_until INTEGER
);
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN expires INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked INTEGER;
ALTER TABLE guest_invitations ADD COLUMN temp_issued INTEGER;
ALTER TABLE guest_invitations ADD COLUMN temp_used INTEGER;
ALTER TABLE workspace ADD COLUMN guest_invitation_days INTEGER NOT NULL DEFAULT 7;
"#;

/// V15: import jobs that wait too long expire. A planned job (or one a
/// restart left resumable) kept a plaintext copy of the export in its
/// upload folder until someone applied or deleted it; `serve
/// --planned-job-ttl` now ends such jobs, deletes their uploads and
/// records when here, so the job answers 410 Gone instead of "cancelled"
/// by someone.
const V15: &str = r#"
ALTER TABLE jobs ADD COLUMN expired TEXT;
"#;

/// V16 (the guests' side): what makes a member's page one
/// bounded query. A member's reach starts from their grants, their teams
/// and their partner, so grants are indexed by grantee and team places by
/// member; collections by parent, for the walk down nested collections;
/// the audit log by actor, for "my activity" newest first; accounts and
/// secrets by collection, for the page of a member who reaches few of them
/// (found from their collections rather than by walking every row). These
/// cost an import one more b-tree insert per grant, account and secret, and
/// a request one per audit row: without them a page read every grant, and
/// a guest's page every item.
const V16: &str = r#"
CREATE INDEX grants_grantee ON grants (grantee_kind, grantee_id, target_kind, target_id);
CREATE INDEX accounts_collection ON accounts (collection_id);
CREATE INDEX secrets_collection ON secrets (collection_id);
CREATE INDEX team_members_member ON team_members (member_id);
CREATE INDEX collections_parent ON collections (parent_id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
"#;

/// V17: secret values sealed at rest with the workspace key
/// (`sealed.rs`). The table holds one value, a known text sealed with the
/// key: a wrong key is told from the right one before any value is read,
/// so it is an error naming the key, never garbage. The values a store
/// from before this step holds in clear are sealed where they lie, in
/// Rust (`sealed::attach`), the first time it is opened with a key; the
/// check row is written in that same transaction, so a store is either
/// sealed whole or not at all.
const V17: &str = r#"
CREATE TABLE workspace_key (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    check_value BLOB NOT NULL,
    sealed TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
"#;

/// Why a database cannot be brought to this binary's schema.
#[derive(Debug)]
pub enum SchemaError {
    Newer { found: i64, known: i64 },
    Changed { version: i64 },
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for SchemaError {
    fn from(e: rusqlite::Error) -> SchemaError {
        SchemaError::Sql(e)
    }
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Brings the database to [`latest`], one transaction per step.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    migrate_to(conn, latest())
}

/// Brings the database to schema version `target` (tests make stores
/// as older builds left them).
pub(super) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), SchemaError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            checksum TEXT NOT NULL,
            applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )",
    )?;
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(SchemaError::Newer {
            found: current,
            known: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version > target {
            break;
        }
        if version <= current {
            let recorded: Option<String> = conn
                .query_row(
                    "SELECT checksum FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()?;
            if recorded.as_deref() != Some(checksum(sql).as_str()) {
                return Err(SchemaError::Changed { version });
            }
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, checksum) VALUES (?1, ?2)",
            params![version, checksum(sql)],
        )?;
        // PRAGMA takes no parameters; `version` is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
    }
    Ok(())
}
