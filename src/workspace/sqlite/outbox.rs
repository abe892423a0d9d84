//! The invitation outbox (schema V8): which invitations still wait for
//! their email, and the two steps of delivering one.

use rusqlite::{params, Connection, Result};

use super::now;
use super::write::audit;
use crate::workspace::{ImportKey, PendingInvitation};

/// Invitations whose email was never delivered, oldest first.
pub(super) fn pending(conn: &Connection) -> Result<Vec<PendingInvitation>> {
    let mut stmt = conn.prepare(
        "SELECT i.import_key, m.email, m.name, i.username FROM invitation_outbox o
         JOIN guest_invitations i ON i.id = o.invitation_id JOIN members m ON m.id = i.member_id
         WHERE o.state = 'pending' AND i.import_key IS NOT NULL ORDER BY i.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PendingInvitation {
            import_key: ImportKey::new(r.get::<_, String>(0)?),
            email: r.get::<_, String>(1)?.trim().to_lowercase(),
            name: r.get(2)?,
            username: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The new temporary password's hash for a pending invitation; false when
/// it is not pending (delivered meanwhile): then nothing is changed.
pub(super) fn replace_password(tx: &Connection, key: &ImportKey, hash: &str, salt: &str) -> Result<bool> {
    let changed = tx
        .prepare_cached(
            "UPDATE guest_invitations SET password_hash = ?2, salt = ?3,
                 temp_issued = CAST(strftime('%s', 'now') AS INTEGER), temp_used = NULL
             WHERE import_key = ?1
               AND id IN (SELECT invitation_id FROM invitation_outbox WHERE state = 'pending')",
        )?
        .execute(params![key.as_str(), hash, salt])?;
    if changed > 0 {
        tx.prepare_cached(
            "UPDATE invitation_outbox SET attempts = attempts + 1
             WHERE invitation_id = (SELECT id FROM guest_invitations WHERE import_key = ?1)",
        )?
        .execute([key.as_str()])?;
        audit(tx, "vaultferry", "guest.invite-again", &format!("invitation {key}"))?;
    }
    Ok(changed > 0)
}

pub(super) fn delivered(tx: &Connection, key: &ImportKey, via: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE invitation_outbox SET state = 'delivered', delivered = ?2, via = ?3
         WHERE invitation_id = (SELECT id FROM guest_invitations WHERE import_key = ?1)",
    )?
    .execute(params![key.as_str(), now(), via])?;
    audit(
        tx,
        "vaultferry",
        "guest.invitation-delivered",
        &format!("invitation {key} via {via}"),
    )
}
