//! Writes. Each function runs inside the caller's transaction, so a seed
//! (or, later, one apply step) is written whole or not at all.

use std::collections::HashMap;

use rusqlite::{params, Connection, Result};

use super::now;
use crate::workspace::seed::{member_state_name, partnership_state_name, Seed, SeedPartner, SeedPartnership};
use crate::workspace::{MemberState, Role};

/// A member to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    /// Stored lowercase and trimmed.
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub state: MemberState,
    pub directory_managed: bool,
}

pub(super) fn audit(tx: &Connection, actor: &str, action: &str, object: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (time, actor, action, object) VALUES (?1, ?2, ?3, ?4)",
        params![now(), actor, action, object],
    )?;
    Ok(())
}

pub(super) fn insert_member(tx: &Connection, m: &NewMember) -> Result<i64> {
    let email = m.email.trim().to_lowercase();
    tx.execute(
        "INSERT INTO members (email, name, role, directory_managed, state) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            email,
            m.name,
            m.role.name(),
            m.directory_managed,
            member_state_name(m.state)
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit(tx, "vaultferry", "member.create", &format!("member {email}"))?;
    Ok(id)
}

pub(super) fn insert_team(tx: &Connection, name: &str, import_key: Option<&str>) -> Result<i64> {
    tx.execute(
        "INSERT INTO teams (name, import_key) VALUES (?1, ?2)",
        params![name, import_key],
    )?;
    let id = tx.last_insert_rowid();
    audit(tx, "vaultferry", "team.create", &format!("team {name}"))?;
    Ok(id)
}

pub(super) fn add_team_member(tx: &Connection, team: i64, member: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO team_members (team_id, member_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![team, member],
    )?;
    Ok(())
}

pub(super) fn insert_partner(tx: &Connection, p: &SeedPartner, ids: &HashMap<String, i64>) -> Result<i64> {
    tx.execute("INSERT INTO local_partners (name) VALUES (?1)", params![p.name])?;
    let id = tx.last_insert_rowid();
    for d in &p.domains {
        tx.execute(
            "INSERT INTO partner_domains (partner_id, domain) VALUES (?1, ?2)",
            params![id, d],
        )?;
    }
    for (kind, refs) in [("guest_admin", &p.guest_admins), ("guest_user", &p.guest_users)] {
        for r in refs {
            let member = ids.get(&r.email).copied().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.execute(
                "INSERT INTO partner_members (partner_id, member_id, kind) VALUES (?1, ?2, ?3)",
                params![id, member, kind],
            )?;
        }
    }
    audit(tx, "vaultferry", "partner.create", &format!("partner {}", p.name))?;
    Ok(id)
}

pub(super) fn insert_partnership(tx: &Connection, p: &SeedPartnership) -> Result<i64> {
    tx.execute(
        "INSERT INTO partnerships (partner_workspace_id, name, state) VALUES (?1, ?2, ?3)",
        params![p.workspace_id, p.name, partnership_state_name(p.state)],
    )?;
    let id = tx.last_insert_rowid();
    for d in &p.domains {
        tx.execute(
            "INSERT INTO partnership_domains (partnership_id, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, d],
        )?;
    }
    audit(
        tx,
        "vaultferry",
        "partnership.create",
        &format!("partnership {} ({})", p.name, p.workspace_id),
    )?;
    Ok(id)
}

/// The whole seed: workspace row, domains, members, teams, partners,
/// partnerships.
pub(super) fn seed(tx: &Connection, id: &str, seed: &Seed) -> Result<()> {
    let p = &seed.password_policy;
    tx.execute(
        "INSERT INTO workspace (singleton, id, name, pw_min_length, pw_require_uppercase, pw_require_lowercase,
                                pw_require_digit, pw_require_symbol, created)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            seed.name,
            p.min_length,
            p.require_uppercase,
            p.require_lowercase,
            p.require_digit,
            p.require_symbol,
            now()
        ],
    )?;
    for d in &seed.domains {
        tx.execute(
            "INSERT INTO domains (domain) VALUES (?1) ON CONFLICT DO NOTHING",
            params![d],
        )?;
    }
    let mut ids = HashMap::new();
    for m in &seed.members {
        let id = insert_member(
            tx,
            &NewMember {
                email: m.email.clone(),
                name: m.name.clone(),
                role: m.role,
                state: m.state,
                directory_managed: m.directory_managed,
            },
        )?;
        ids.insert(m.email.clone(), id);
    }
    for t in &seed.teams {
        let team = insert_team(tx, &t.name, None)?;
        for r in &t.members {
            let member = ids.get(&r.email).copied().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            add_team_member(tx, team, member)?;
        }
    }
    for p in &seed.partners {
        insert_partner(tx, p, &ids)?;
    }
    for p in &seed.partnerships {
        insert_partnership(tx, p)?;
    }
    audit(
        tx,
        "vaultferry",
        "workspace.init",
        &format!("workspace {} from {}", seed.name, seed.file),
    )
}
