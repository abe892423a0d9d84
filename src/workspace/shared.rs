//! A store shared by reference count is a store: the server holds one
//! workspace for every request and hands it to the import pipeline, which
//! owns the workspace it runs on.

use std::sync::Arc;

use super::*;

impl<W: Workspace + ?Sized> Workspace for Arc<W> {
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError> {
        (**self).snapshot()
    }
    fn snapshot_base(&self) -> Result<Snapshot, WorkspaceError> {
        (**self).snapshot_base()
    }
    fn item_count(&self) -> Result<usize, WorkspaceError> {
        (**self).item_count()
    }
    fn load_items(&self, snapshot: &mut Snapshot, planned: &PlannedHashes<'_>) -> Result<(), WorkspaceError> {
        (**self).load_items(snapshot, planned)
    }
    fn read_ahead(&self) -> Result<Option<read_ahead::ReadAhead>, WorkspaceError> {
        (**self).read_ahead()
    }
    fn read_items_by_id(
        &self,
        snapshot: &mut Snapshot,
        accounts: &[i64],
        secrets: &[i64],
    ) -> Result<(), WorkspaceError> {
        (**self).read_items_by_id(snapshot, accounts, secrets)
    }
    fn create_collection(&self, collection: &Collection) -> Result<i64, WorkspaceError> {
        (**self).create_collection(collection)
    }
    fn create_account(&self, account: &Account) -> Result<i64, WorkspaceError> {
        (**self).create_account(account)
    }
    fn create_secret(&self, secret: &SecretItem) -> Result<i64, WorkspaceError> {
        (**self).create_secret(secret)
    }
    fn create_grant(&self, grant: &Grant) -> Result<i64, WorkspaceError> {
        (**self).create_grant(grant)
    }
    fn create_team(&self, name: &str, import_key: &ImportKey) -> Result<i64, WorkspaceError> {
        (**self).create_team(name, import_key)
    }
    fn add_team_member(&self, team: i64, member: i64) -> Result<(), WorkspaceError> {
        (**self).add_team_member(team, member)
    }
    fn create_guest_invitation(&self, invitation: &NewGuestInvitation) -> Result<i64, WorkspaceError> {
        (**self).create_guest_invitation(invitation)
    }
    fn begin_run(&self, run: &NewRun) -> Result<Vec<String>, WorkspaceError> {
        (**self).begin_run(run)
    }
    fn apply_batch(&self, run: &str, writes: &[Write]) -> Result<Vec<i64>, WorkspaceError> {
        (**self).apply_batch(run, writes)
    }
    fn pending_invitations(&self) -> Result<Vec<PendingInvitation>, WorkspaceError> {
        (**self).pending_invitations()
    }
    fn replace_invitation_password(&self, key: &ImportKey, hash: &str, salt: &str) -> Result<bool, WorkspaceError> {
        (**self).replace_invitation_password(key, hash, salt)
    }
    fn invitation_delivered(&self, key: &ImportKey, via: &str) -> Result<(), WorkspaceError> {
        (**self).invitation_delivered(key, via)
    }
    fn created_by_source(&self, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>, WorkspaceError> {
        (**self).created_by_source(scope, keys)
    }
    fn finish_run(&self, run: &str, state: RunState, summary: &str) -> Result<(), WorkspaceError> {
        (**self).finish_run(run, state, summary)
    }
    fn runs(&self) -> Result<Vec<RunInfo>, WorkspaceError> {
        (**self).runs()
    }
    fn move_collection_keys(&self, moves: &[KeyMove], rehashed: &RehashedItems) -> Result<usize, WorkspaceError> {
        (**self).move_collection_keys(moves, rehashed)
    }
    fn scratch_copy(&self) -> Result<Option<Box<dyn Workspace>>, WorkspaceError> {
        (**self).scratch_copy()
    }
}
