//! Room for another import job, decided before its upload arrives.
//!
//! The check ("fewer than `max_jobs` jobs are queued, parsing or
//! applying") and the claim used to sit under one lock held until the
//! job row was inserted, that is, while the whole upload came in: one
//! client sending slowly kept every other upload waiting for up to the
//! request timeout. Now an upload takes a [`Slot`] under a short lock
//! (the jobs in the store plus the slots of uploads still arriving) and
//! the lock is free while its body comes; the slot is given back when the
//! upload fails, is cut off, or its job is in the store (and counts there).

use std::sync::{Arc, Mutex};

use crate::workspace::service::ServiceStore;
use crate::workspace::WorkspaceError;

/// Uploads admitted whose job is not in the store yet.
#[derive(Debug, Default)]
pub struct Admission {
    arriving: Mutex<usize>,
}

/// One admitted upload's place; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot {
    admission: Arc<Admission>,
}

impl Admission {
    /// A slot, or `Err(busy)` with how many jobs and uploads hold the
    /// `max` places. Blocking: it reads the store.
    pub fn reserve(
        self: &Arc<Self>,
        store: &dyn ServiceStore,
        max: usize,
    ) -> Result<Result<Slot, usize>, WorkspaceError> {
        let mut arriving = self.arriving.lock().unwrap_or_else(|p| p.into_inner());
        let busy = store.active_jobs()?.saturating_add(*arriving);
        if busy >= max {
            return Ok(Err(busy));
        }
        *arriving += 1;
        Ok(Ok(Slot {
            admission: Arc::clone(self),
        }))
    }

    /// Uploads admitted and still arriving.
    pub fn arriving(&self) -> usize {
        *self.arriving.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut arriving = self.admission.arriving.lock().unwrap_or_else(|p| p.into_inner());
        *arriving = arriving.saturating_sub(1);
    }
}
