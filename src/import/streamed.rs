//! The summary of an import without its items kept: what `plan` prints.

use crate::diff;
use crate::mapper;
use crate::sources;
use crate::workspace::Workspace;
use crate::Error;

use super::{export_kind, importer_and_options, pipelined, Import, Stages};

/// The most accounts and secrets a workspace may hold for the streamed
/// summary: ~1 KB each held whole, 50 MB at most.
const STREAMED_WORKSPACE_ITEMS: usize = 50_000;

/// The summary of [`super::prepare`]: each chunk of entries is mapped,
/// compared with the workspace and dropped ([`diff::stream`]), so it holds
/// a few chunks, a name per item and the plan's other objects, not the
/// export. `None` when the plan must be decided whole after all
/// ([`diff::stream::NeedsWholePlan`]), the workspace holds too many items
/// to read whole, entries the source tells apart only by content meet a
/// workspace that may hold them, or collections keyed by an earlier build
/// would move first (the whole plan shows the run after the move).
pub fn summarise(
    import: &Import,
    workspace: &dyn Workspace,
    stages: &mut dyn Stages,
) -> Result<Option<diff::stream::Streamed>, Error> {
    // This path holds the workspace's items whole. Past a few thousand
    // (the dry run of a re-run) the whole-plan path, which reads the items
    // a previous run left untouched as ids, is the lighter one.
    if workspace.item_count()? > STREAMED_WORKSPACE_ITEMS {
        return Ok(None);
    }
    let snapshot = workspace.snapshot()?;
    let (importer, options) = importer_and_options(&snapshot, import)?;
    let kind = export_kind(import, &options)?;
    let file = import.export.display().to_string();
    let owner = super::export_owner(import, &options);
    let mut mapping = mapper::MapStream::new(kind, &file, &import.policy, &snapshot, &importer, &owner)
        .map_err(|e| Error::Usage(e.0))?;
    let mut items = diff::stream::ItemStream::new(&snapshot, &file);
    // Entries told apart only by content are paired with the workspace
    // by content (`diff::fingerprints`), which needs each group whole: a
    // group's members may fall in any chunk, so the whole plan decides.
    let mut numbered_fingerprints = false;
    stages.start("reading, mapping and comparing the export");
    let mut vault = pipelined::read(
        &import.export,
        &options,
        &mut |entries| entries.into_iter().filter_map(|e| mapping.entry(e)).collect(),
        &mut |planned: Vec<mapper::PlannedItem>| {
            numbered_fingerprints |= planned.iter().any(|p| {
                let id = match p {
                    mapper::PlannedItem::Account(a) => &a.source_id,
                    mapper::PlannedItem::Secret(s) => &s.source_id,
                };
                id.starts_with("fp:") && id.contains('#')
            });
            items.push(planned)
        },
        &mut *stages,
    )?;
    if numbered_fingerprints && !(snapshot.accounts.is_empty() && snapshot.secrets.is_empty()) {
        return Ok(None);
    }
    if let Some(sharing) = &import.sharing {
        stages.start("reading the sharing file");
        sources::read_sharing(&mut vault, sharing, &options)?;
    }
    if vault.source != kind || vault.file != file {
        // Never so today; the whole plan reads the vault's own words.
        return Ok(None);
    }
    stages.start("mapping and comparing the folders and sharing");
    let (plan, keys, root_grants) = mapping.finish(&vault);
    if !super::key_moves(kind, &plan, &snapshot, workspace)?.is_empty() {
        return Ok(None);
    }
    let Ok(mut streamed) = items.finish(plan, &keys, root_grants, false) else {
        return Ok(None);
    };
    let gone = std::mem::take(&mut streamed.changes.gone);
    streamed.changes.gone = diff::from_this_source(workspace, &streamed.plan, gone)?;
    Ok(Some(streamed))
}
