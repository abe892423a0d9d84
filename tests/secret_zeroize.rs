//! Proof that a `Secret`'s bytes are zeroed before its memory goes back to
//! the allocator.
//!
//! This binary installs a global allocator that, while a test is watching,
//! looks at every block handed to `dealloc` *before* passing it on to the
//! system allocator (the block is still ours then, so reading it is sound),
//! and counts the blocks that still hold a marker. A plain `String` holding
//! the marker is the control: it must be caught, or the detector is blind
//! and the other tests would prove nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use vaultferry::model::{Attachment, Entry, EntryKind, Field, FieldValue, PasswordChange};
use vaultferry::Secret;

/// Long and odd enough that no unrelated block holds it by chance.
const MARKER: &[u8] = b"SECRET-MARKER-ZEROIZE-7f3a91c2";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FREED_WITH_MARKER: AtomicUsize = AtomicUsize::new(0);
static FREED_WATCHED: AtomicUsize = AtomicUsize::new(0);

struct Inspecting;

fn holds_marker(block: &[u8]) -> bool {
    block.windows(MARKER.len()).any(|w| w == MARKER)
}

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) && layout.size() >= MARKER.len() {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until
            // System.dealloc below; nothing else frees it meanwhile.
            let block = std::slice::from_raw_parts(ptr, layout.size());
            FREED_WATCHED.fetch_add(1, Ordering::SeqCst);
            if holds_marker(block) {
                FREED_WITH_MARKER.fetch_add(1, Ordering::SeqCst);
            }
        }
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A grown Vec copies its bytes and frees the old block; count that
        // block too so a secret that is reallocated un-zeroed is caught.
        if WATCHING.load(Ordering::SeqCst) && layout.size() >= MARKER.len() {
            // SAFETY: as in dealloc, the old block is live until System.realloc.
            let block = std::slice::from_raw_parts(ptr, layout.size());
            if holds_marker(block) {
                FREED_WITH_MARKER.fetch_add(1, Ordering::SeqCst);
            }
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

/// Tests share the counters, so they take turns.
static TURN: Mutex<()> = Mutex::new(());

/// Freed blocks that still held the marker while `f` ran (the marker value
/// is built on the heap inside `f`, never borrowed from the binary).
fn marker_blocks_freed_during(f: impl FnOnce()) -> usize {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    FREED_WITH_MARKER.store(0, Ordering::SeqCst);
    FREED_WATCHED.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    f();
    WATCHING.store(false, Ordering::SeqCst);
    assert!(
        FREED_WATCHED.load(Ordering::SeqCst) > 0,
        "the allocator saw no block freed: the test exercised nothing"
    );
    FREED_WITH_MARKER.load(Ordering::SeqCst)
}

/// The marker as a fresh heap `String`, with spare capacity like a value a
/// parser built up piece by piece.
fn marker() -> String {
    let mut s = String::with_capacity(MARKER.len() * 2);
    s.push_str(std::str::from_utf8(MARKER).unwrap_or_default());
    s
}

#[test]
fn the_detector_sees_a_plain_string_freed_with_its_contents() {
    let found = marker_blocks_freed_during(|| {
        let plain = marker();
        assert_eq!(plain.len(), MARKER.len());
        drop(plain);
    });
    assert_eq!(
        found, 1,
        "a plain String must be caught, or the other tests prove nothing"
    );
}

#[test]
fn a_text_secret_is_zeroed_before_it_is_freed() {
    let found = marker_blocks_freed_during(|| {
        let secret = Secret::text(marker());
        assert_eq!(secret.expose().as_bytes(), MARKER);
        drop(secret);
    });
    assert_eq!(found, 0, "a dropped Secret::text left its value in freed memory");
}

#[test]
fn a_byte_secret_and_its_clone_are_zeroed_before_they_are_freed() {
    let found = marker_blocks_freed_during(|| {
        let secret = Secret::bytes(marker().into_bytes());
        let copy = secret.clone();
        assert_eq!(copy.expose_bytes(), MARKER);
        drop(secret);
        drop(copy);
    });
    assert_eq!(
        found, 0,
        "a dropped Secret::bytes (or its clone) left its value in freed memory"
    );
}

#[test]
fn map_text_zeroes_the_old_value() {
    let found = marker_blocks_freed_during(|| {
        let mut secret = Secret::text(marker());
        secret.map_text(|old| old.replace("MARKER", "marker"));
        assert!(!secret.expose().as_bytes().windows(MARKER.len()).any(|w| w == MARKER));
        drop(secret);
    });
    assert_eq!(found, 0, "map_text freed the old value without zeroing it");
}

#[test]
fn an_entry_zeroes_its_password_totp_history_concealed_fields_and_attachments() {
    let found = marker_blocks_freed_during(|| {
        let mut entry = Entry::new(EntryKind::Login, "Router");
        entry.password = Some(Secret::text(marker()));
        entry.totp = Some(Secret::text(marker()));
        entry.fields.push(Field {
            value: FieldValue::Concealed(Secret::text(marker())),
            ..Field::plain("PIN", "")
        });
        entry.password_history.push(PasswordChange {
            value: Secret::text(marker()),
            changed: None,
        });
        entry.attachments.push(Attachment {
            name: "key.pem".to_owned(),
            size: MARKER.len() as u64,
            content: Some(Secret::bytes(marker().into_bytes())),
            source_id: None,
            digest: None,
            origin: None,
        });
        drop(entry);
    });
    assert_eq!(found, 0, "dropping an entry left a secret value in freed memory");
}
