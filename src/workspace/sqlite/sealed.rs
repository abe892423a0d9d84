//! Secret values as the store keeps them: sealed with the workspace key
//! (`formats/workspace-seed.md`, "Encryption at rest").
//!
//! Sealed are accounts' passwords, one-time password seeds, notes and
//! fields, secrets' notes and fields, and attachment bytes. Notes are not
//! `Secret`s in the model, but a secure note's text is the secret it
//! holds. Fields are sealed as one value per row (their labels too: a
//! field list is read and written whole). Names, usernames, URLs and tags
//! stay readable: grants, duplicates and reports are decided on them.
//!
//! Each value is bound to its place (table, column, row id): a sealed
//! value copied into another row or column does not open, so nobody with
//! write access to the file can move a password to an account they can
//! see. Attachments are sealed in 64 KiB pieces, each bound to its row,
//! its position and the number of pieces, so a large document is written
//! and read a piece at a time, and a piece dropped, repeated or moved does
//! not open either.
//!
//! A value a store from before this (schema V16 and older) holds in clear
//! is told apart by its type (text where a sealed value is a blob; fields
//! JSON that is a list, not a string; attachment bytes as long as the
//! file): read as it is, and sealed where it lies the first time the store
//! is opened with a key ([`attach`]).

use std::io::{Read, Write};

use rusqlite::types::{Type, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use crate::workspace::key::{default_key_path, KeyError, KeyOrigin, WorkspaceKey, OVERHEAD};

/// The columns that hold sealed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    AccountPassword,
    AccountTotp,
    AccountNotes,
    AccountFields,
    SecretNotes,
    SecretFields,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::AccountPassword => "accounts.password",
            Column::AccountTotp => "accounts.totp",
            Column::AccountNotes => "accounts.notes",
            Column::AccountFields => "accounts.fields",
            Column::SecretNotes => "secrets.notes",
            Column::SecretFields => "secrets.fields",
        }
    }
}

/// The associated data that binds a value to its place.
fn aad(column: &str, row: i64) -> Vec<u8> {
    format!("vaultferry.v1:{column}:{row}").into_bytes()
}

/// Plaintext bytes per sealed attachment piece.
pub const PIECE: usize = 1 << 16;

const CHECK_AAD: &[u8] = b"vaultferry.v1:workspace_key.check_value";
const CHECK_TEXT: &[u8] = b"vaultferry workspace key check";

fn unsealable(idx: usize, column: &str, row: i64) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        Type::Blob,
        format!(
            "the sealed value of {column} in row {row} does not open with this workspace key: \
             it was copied from another row or column, or damaged"
        )
        .into(),
    )
}

/// Seals a text value for `column` of `row`.
pub fn seal_text(key: &WorkspaceKey, column: Column, row: i64, value: Option<&str>) -> Option<Vec<u8>> {
    value.map(|v| key.seal(&aad(column.name(), row), v.as_bytes()))
}

/// A sealed text column read back (`idx` is its index in the row, for
/// the error). Text is a value from before sealing, read as it is.
pub fn open_text(
    key: &WorkspaceKey,
    column: Column,
    row: i64,
    idx: usize,
    value: ValueRef<'_>,
) -> rusqlite::Result<Option<Zeroizing<String>>> {
    let opened = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(t) => Zeroizing::new(t.to_vec()),
        ValueRef::Blob(b) => key
            .open(&aad(column.name(), row), b)
            .map_err(|_| unsealable(idx, column.name(), row))?,
        _ => return Err(unsealable(idx, column.name(), row)),
    };
    text(opened, idx, column, row).map(Some)
}

fn text(bytes: Zeroizing<Vec<u8>>, idx: usize, column: Column, row: i64) -> rusqlite::Result<Zeroizing<String>> {
    let mut bytes = bytes;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            let mut raw = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut raw);
            Err(rusqlite::Error::FromSqlConversionFailure(
                idx,
                Type::Blob,
                format!("the value of {} in row {row} is not UTF-8 text", column.name()).into(),
            ))
        }
    }
}

/// A fields list as stored: the empty list as it is (most items have
/// none), anything else sealed, as a JSON string of its base64 (the
/// column must hold valid JSON).
pub fn seal_fields(key: &WorkspaceKey, column: Column, row: i64, json: &str) -> String {
    use base64::Engine as _;
    if json == "[]" {
        return json.to_owned();
    }
    let sealed = key.seal(&aad(column.name(), row), json.as_bytes());
    let mut out = String::with_capacity(sealed.len() * 4 / 3 + 6);
    out.push('"');
    base64::engine::general_purpose::STANDARD.encode_string(&sealed, &mut out);
    out.push('"');
    out
}

/// The fields JSON of a row: opened when sealed, as it is when it is the
/// list a store from before sealing holds.
pub fn open_fields(
    key: &WorkspaceKey,
    column: Column,
    row: i64,
    idx: usize,
    stored: &str,
) -> rusqlite::Result<Zeroizing<String>> {
    use base64::Engine as _;
    let Some(inner) = stored.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return Ok(Zeroizing::new(stored.to_owned()));
    };
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .map_err(|_| unsealable(idx, column.name(), row))?;
    let opened = key
        .open(&aad(column.name(), row), &sealed)
        .map_err(|_| unsealable(idx, column.name(), row))?;
    text(opened, idx, column, row)
}

/// How many pieces an attachment of `size` bytes is sealed in (an empty
/// one is one empty piece, so it too is told apart from cleartext).
fn pieces(size: u64) -> u64 {
    size.div_ceil(PIECE as u64).max(1)
}

/// The stored length of an attachment of `size` bytes, sealed.
pub fn sealed_len(size: u64) -> u64 {
    size + pieces(size) * OVERHEAD as u64
}

fn piece_aad(row: i64, index: u64, count: u64) -> Vec<u8> {
    format!("vaultferry.v1:attachments.content:{row}:{index}/{count}").into_bytes()
}

/// Seals attachment bytes written to it into `out` a piece at a time.
/// [`finish`](PieceWriter::finish) seals the last piece and checks that
/// exactly `size` bytes came.
pub struct PieceWriter<'k, W: Write> {
    key: &'k WorkspaceKey,
    out: W,
    row: i64,
    count: u64,
    index: u64,
    size: u64,
    written: u64,
    buf: Zeroizing<Vec<u8>>,
}

impl<'k, W: Write> PieceWriter<'k, W> {
    pub fn new(key: &'k WorkspaceKey, out: W, row: i64, size: u64) -> PieceWriter<'k, W> {
        PieceWriter {
            key,
            out,
            row,
            count: pieces(size),
            index: 0,
            size,
            written: 0,
            buf: Zeroizing::new(Vec::with_capacity(PIECE.min(usize::try_from(size).unwrap_or(PIECE)))),
        }
    }

    fn seal_piece(&mut self) -> std::io::Result<()> {
        let sealed = self.key.seal(&piece_aad(self.row, self.index, self.count), &self.buf);
        self.buf.clear();
        self.index += 1;
        self.out.write_all(&sealed)
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        if self.written != self.size {
            return Err(std::io::Error::other(format!(
                "attachment of {} bytes: {} came",
                self.size, self.written
            )));
        }
        if !self.buf.is_empty() || self.index == 0 {
            self.seal_piece()?;
        }
        self.out.flush()
    }
}

impl<W: Write> Write for PieceWriter<'_, W> {
    fn write(&mut self, mut bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len();
        while !bytes.is_empty() {
            // A full piece is sealed only once more bytes come: the last
            // one is sealed by `finish`.
            if self.buf.len() == PIECE {
                self.seal_piece()?;
            }
            let take = (PIECE - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            self.written += take as u64;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads an attachment's stored bytes (`stored_len` of them from `input`)
/// and hands its plaintext to `each` a piece at a time. Bytes as long as
/// the file are a store from before sealing, handed over as they are.
pub fn open_attachment(
    key: &WorkspaceKey,
    row: i64,
    size: u64,
    stored_len: u64,
    mut input: impl Read,
    mut each: impl FnMut(&[u8]),
) -> std::io::Result<()> {
    let wrong = || {
        std::io::Error::other(format!(
            "the sealed bytes of attachment {row} do not open with this workspace key: \
             they were copied from another attachment, or damaged"
        ))
    };
    if stored_len == size {
        let mut buf = Zeroizing::new(vec![0u8; PIECE]);
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            each(&buf[..n]);
        }
    }
    if stored_len != sealed_len(size) {
        return Err(wrong());
    }
    let count = pieces(size);
    let mut left = size;
    let mut buf = Zeroizing::new(vec![0u8; PIECE + OVERHEAD]);
    for index in 0..count {
        let plain = left.min(PIECE as u64) as usize;
        left -= plain as u64;
        let piece = &mut buf[..plain + OVERHEAD];
        input.read_exact(piece)?;
        let opened = key.open(&piece_aad(row, index, count), piece).map_err(|_| wrong())?;
        each(&opened);
    }
    Ok(())
}

/// The plaintext bytes `offset..offset + len` of an attachment of `size`
/// bytes sealed as `stored_len` stored bytes, read from `blob` by stored
/// offset: a download streams a large document a range at a time without
/// opening it whole. `offset` must fall on a piece boundary (a multiple of
/// [`PIECE`]); a store from before sealing is read as it is.
pub fn open_attachment_range(
    key: &WorkspaceKey,
    row: i64,
    size: u64,
    stored_len: u64,
    offset: u64,
    len: usize,
    mut read_at: impl FnMut(&mut [u8], u64) -> std::io::Result<()>,
) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let end = size.min(offset.saturating_add(len as u64));
    let mut out = Zeroizing::new(Vec::with_capacity(end.saturating_sub(offset) as usize));
    if offset >= end {
        return Ok(out);
    }
    if stored_len == size {
        out.resize((end - offset) as usize, 0);
        read_at(&mut out, offset)?;
        return Ok(out);
    }
    let wrong = || {
        std::io::Error::other(format!(
            "the sealed bytes of attachment {row} do not open with this workspace key: \
             they were copied from another attachment, or damaged"
        ))
    };
    if stored_len != sealed_len(size) || offset % PIECE as u64 != 0 {
        return Err(wrong());
    }
    let count = pieces(size);
    let mut buf = Zeroizing::new(vec![0u8; PIECE + OVERHEAD]);
    let mut index = offset / PIECE as u64;
    while index < count && (index * PIECE as u64) < end {
        let plain = (size - index * PIECE as u64).min(PIECE as u64) as usize;
        let piece = &mut buf[..plain + OVERHEAD];
        read_at(piece, index * (PIECE + OVERHEAD) as u64)?;
        let opened = key.open(&piece_aad(row, index, count), piece).map_err(|_| wrong())?;
        let take = ((end - index * PIECE as u64) as usize).min(opened.len());
        out.extend_from_slice(&opened[..take]);
        index += 1;
    }
    Ok(out)
}

/// Seals in-memory attachment bytes (an attachment held whole).
pub fn seal_attachment(key: &WorkspaceKey, row: i64, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(sealed_len(bytes.len() as u64)).unwrap_or(0));
    let mut w = PieceWriter::new(key, &mut out, row, bytes.len() as u64);
    w.write_all(bytes)?;
    w.finish()?;
    Ok(out)
}

/// Why a store could not be opened with the key it was given.
pub fn wrong_key(key: &WorkspaceKey) -> String {
    format!(
        "{} does not open this workspace: its secret values were sealed with another key. \
         Give the key `workspace init` made for this database (--key-file PATH, or {}); \
         without it the values cannot be read",
        key.origin(),
        crate::workspace::key::KEY_ENV
    )
}

/// What to say when a sealed store comes without any key.
pub fn no_key(db: &std::path::Path) -> String {
    format!(
        "this workspace's secret values are sealed with a workspace key and none was found: \
         expected the key file {} beside the database, --key-file PATH, or {}. \
         Restore the key file from your backup; without it the values cannot be read",
        default_key_path(db).display(),
        crate::workspace::key::KEY_ENV
    )
}

/// Whether the store has been sealed (its key check is written).
pub fn check_value(conn: &Connection) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT check_value FROM workspace_key WHERE singleton = 1", [], |r| {
        r.get(0)
    })
    .optional()
}

/// Checks `key` against a sealed store's check value.
pub fn key_opens(key: &WorkspaceKey, check: &[u8]) -> bool {
    key.open(CHECK_AAD, check).is_ok_and(|t| t.as_slice() == CHECK_TEXT)
}

/// The key the store at `db` is opened with, after its schema is current.
///
/// A sealed store needs the key it was sealed with. A store that is not
/// sealed yet (new, or from before schema V17) is sealed now, in one
/// transaction, with the key given or, without one, with a new key
/// written to `DB.key` beside it.
pub fn attach(conn: &mut Connection, db: &std::path::Path, key: Option<WorkspaceKey>) -> Result<WorkspaceKey, String> {
    let sql = |e: rusqlite::Error| format!("cannot read the workspace key check: {e}");
    if let Some(check) = check_value(conn).map_err(sql)? {
        let key = key.ok_or_else(|| no_key(db))?;
        if !key_opens(&key, &check) {
            return Err(wrong_key(&key));
        }
        return Ok(key);
    }
    let key = match key {
        Some(k) => k,
        None => {
            let path = default_key_path(db);
            let k = WorkspaceKey::generate(KeyOrigin::File(path.clone()));
            k.write_file(&path, false).map_err(|KeyError(m)| m)?;
            k
        }
    };
    // The cells and pages the clear values are rewritten from are zeroed,
    // not left in the file's free space.
    conn.execute_batch("PRAGMA secure_delete = ON").map_err(sql)?;
    let sealed = seal_store(conn, &key);
    conn.execute_batch("PRAGMA secure_delete = OFF").map_err(sql)?;
    sealed?;
    // Old frames of the write-ahead log hold the values as they were.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sql)?;
    Ok(key)
}

/// Seals the values and writes the check, in one transaction.
fn seal_store(conn: &mut Connection, key: &WorkspaceKey) -> Result<(), String> {
    let sql = |e: rusqlite::Error| format!("cannot seal the workspace's values: {e}");
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    // Another process may have sealed it since the check above.
    if let Some(check) = check_value(&tx).map_err(sql)? {
        drop(tx);
        return if key_opens(key, &check) {
            Ok(())
        } else {
            Err(wrong_key(key))
        };
    }
    seal_cleartext(&tx, key).map_err(sql)?;
    tx.execute(
        "INSERT INTO workspace_key (singleton, check_value) VALUES (1, ?1)",
        [key.seal(CHECK_AAD, CHECK_TEXT)],
    )
    .map_err(sql)?;
    tx.commit().map_err(sql)
}

/// Seals every value a store from before sealing holds in clear, where it
/// lies. The import's "intact" flags are kept: sealing is not an edit.
fn seal_cleartext(tx: &Connection, key: &WorkspaceKey) -> rusqlite::Result<()> {
    let intact_accounts: Vec<i64> = ids(tx, "SELECT id FROM accounts WHERE imported_intact = 1")?;
    let intact_secrets: Vec<i64> = ids(tx, "SELECT id FROM secrets WHERE imported_intact = 1")?;
    {
        let mut stmt = tx.prepare(
            "SELECT id, size, length(content) FROM attachments WHERE content IS NOT NULL AND length(content) = size",
        )?;
        let rows: Vec<(i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = tx.prepare("UPDATE attachments SET content = ?2 WHERE id = ?1")?;
        for (id, _) in rows {
            let bytes: Zeroizing<Vec<u8>> = tx.query_row(
                "SELECT CAST(content AS BLOB) FROM attachments WHERE id = ?1",
                [id],
                |r| r.get::<_, Vec<u8>>(0).map(Zeroizing::new),
            )?;
            let sealed =
                seal_attachment(key, id, &bytes).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            update.execute(params![id, sealed])?;
        }
    }
    for (table, text_columns, fields_column) in [
        (
            "accounts",
            &[
                ("password", Column::AccountPassword),
                ("totp", Column::AccountTotp),
                ("notes", Column::AccountNotes),
            ][..],
            Column::AccountFields,
        ),
        ("secrets", &[("notes", Column::SecretNotes)][..], Column::SecretFields),
    ] {
        for (name, column) in text_columns {
            let rows: Vec<(i64, Zeroizing<String>)> = {
                let mut stmt = tx.prepare(&format!("SELECT id, {name} FROM {table} WHERE typeof({name}) = 'text'"))?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, Zeroizing::new(r.get::<_, String>(1)?))))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut update = tx.prepare(&format!("UPDATE {table} SET {name} = ?2 WHERE id = ?1"))?;
            for (id, value) in rows {
                update.execute(params![id, seal_text(key, *column, id, Some(&value))])?;
            }
        }
        let rows: Vec<(i64, Zeroizing<String>)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT id, fields FROM {table} WHERE fields <> '[]' AND substr(fields, 1, 1) <> '\"'"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, Zeroizing::new(r.get::<_, String>(1)?))))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut update = tx.prepare(&format!("UPDATE {table} SET fields = ?2 WHERE id = ?1"))?;
        for (id, json) in rows {
            update.execute(params![id, seal_fields(key, fields_column, id, &json)])?;
        }
    }
    // The triggers of schema V4 cleared the flags of the rows rewritten
    // above; a flag set to 1 from 0 fires none.
    let mut restore = tx.prepare("UPDATE accounts SET imported_intact = 1 WHERE id = ?1 AND imported_intact = 0")?;
    for id in intact_accounts {
        restore.execute([id])?;
    }
    let mut restore = tx.prepare("UPDATE secrets SET imported_intact = 1 WHERE id = ?1 AND imported_intact = 0")?;
    for id in intact_secrets {
        restore.execute([id])?;
    }
    Ok(())
}

fn ids(tx: &Connection, sql: &str) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> WorkspaceKey {
        WorkspaceKey::generate(KeyOrigin::Env)
    }

    #[test]
    fn attachments_round_trip_at_every_piece_boundary() {
        let k = key();
        for size in [0usize, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let sealed = seal_attachment(&k, 9, &bytes).unwrap();
            assert_eq!(sealed.len() as u64, sealed_len(size as u64), "size {size}");
            let mut back = Vec::new();
            open_attachment(&k, 9, size as u64, sealed.len() as u64, &sealed[..], |p| {
                back.extend_from_slice(p)
            })
            .unwrap();
            assert_eq!(back, bytes, "size {size}");
            let moved = open_attachment(&k, 10, size as u64, sealed.len() as u64, &sealed[..], |_| {});
            assert!(moved
                .unwrap_err()
                .to_string()
                .contains("copied from another attachment"));
        }
    }

    #[test]
    fn a_piece_swapped_with_another_does_not_open() {
        let k = key();
        let bytes = vec![7u8; 2 * PIECE];
        let mut sealed = seal_attachment(&k, 1, &bytes).unwrap();
        let one = PIECE + OVERHEAD;
        let (a, b) = sealed.split_at_mut(one);
        a.swap_with_slice(&mut b[..one]);
        assert!(open_attachment(&k, 1, bytes.len() as u64, sealed.len() as u64, &sealed[..], |_| {}).is_err());
    }

    #[test]
    fn fields_are_sealed_as_a_json_string_and_the_empty_list_is_left() {
        let k = key();
        assert_eq!(seal_fields(&k, Column::AccountFields, 3, "[]"), "[]");
        let json = r#"[{"label":"PIN","value":"4821","concealed":true}]"#;
        let sealed = seal_fields(&k, Column::AccountFields, 3, json);
        assert!(sealed.starts_with('"') && !sealed.contains("4821"), "{sealed}");
        assert_eq!(&*open_fields(&k, Column::AccountFields, 3, 0, &sealed).unwrap(), json);
        assert!(open_fields(&k, Column::SecretFields, 3, 0, &sealed).is_err());
        assert_eq!(&*open_fields(&k, Column::AccountFields, 3, 0, json).unwrap(), json);
    }
}
