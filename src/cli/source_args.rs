use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::model::{SourceKind, Vault};
use crate::sources::{self, Limits, ParseOptions};
use crate::Error;

/// The export formats `--from` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    #[value(name = "lastpass-csv")]
    LastpassCsv,
    #[value(name = "1pux")]
    Pux,
    #[value(name = "1pif")]
    Pif,
    #[value(name = "1password-csv")]
    OnepasswordCsv,
    Cxf,
}

impl From<FormatArg> for SourceKind {
    fn from(f: FormatArg) -> SourceKind {
        match f {
            FormatArg::LastpassCsv => SourceKind::LastpassCsv,
            FormatArg::Pux => SourceKind::Onepassword1pux,
            FormatArg::Pif => SourceKind::Onepassword1pif,
            FormatArg::OnepasswordCsv => SourceKind::OnepasswordCsv,
            FormatArg::Cxf => SourceKind::Cxf,
        }
    }
}

/// The export to read and how: shared by `inspect`, `plan` and `migrate`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The export: LastPass CSV, 1Password 1PUX, 1PIF (or a 1Password 7
    /// export folder), 1Password CSV or a CXF document. The format is
    /// detected from content.
    pub export: PathBuf,
    /// Who had access: LastPass shared-folder JSON/XML or a 1Password vault
    /// permissions bundle (how to fetch them: `vaultferry explain
    /// lastpass-sharing`, `vaultferry explain 1password-sharing`). A CXF
    /// document carries its own (`vaultferry explain cxf`).
    #[arg(long, value_name = "FILE")]
    pub sharing: Option<PathBuf>,
    /// Skip detection and read the export as this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: Option<FormatArg>,
    /// Stop at the first row that would otherwise be recovered or skipped.
    #[arg(long)]
    pub strict: bool,
    /// Turn `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;` back into characters
    /// (LastPass browser-extension exports write them into values).
    #[arg(long)]
    pub decode_html_entities: bool,
    /// Whose export this is (their email): their personal folders become
    /// their own collections, apart from anyone else's of the same name,
    /// and they own them. A 1PUX names its account itself; LastPass CSV,
    /// 1PIF and 1Password CSV exports do not, and are taken to be the
    /// importer's (`--as`) unless this says otherwise.
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Most files an archive export may hold.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    pub max_entries: usize,
    /// Most bytes an archive export may unpack to.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_unpacked_bytes)]
    pub max_unpacked_bytes: u64,
    /// Most bytes one 1PUX item (or a small archive member) may unpack
    /// to: it is held in memory whole while it is read.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_item_bytes)]
    pub max_item_bytes: u64,
}

impl SourceArgs {
    pub fn options(&self) -> ParseOptions {
        ParseOptions {
            format: self.from.map(SourceKind::from),
            strict: self.strict,
            decode_html_entities: self.decode_html_entities,
            limits: Limits {
                max_entries: self.max_entries,
                max_unpacked_bytes: self.max_unpacked_bytes,
                max_item_bytes: self.max_item_bytes,
            },
            progress: None,
        }
    }

    /// Whose export it is, by `--owner` and by what the export says.
    pub fn export_owner(&self, options: &ParseOptions) -> crate::mapper::ExportOwner {
        crate::mapper::ExportOwner {
            given: self.owner.clone(),
            in_file: sources::export_owner(&self.export, options),
        }
    }

    /// Reads the export and, if given, its sharing file.
    pub fn read(&self) -> Result<Vault, Error> {
        let options = self.options();
        let mut vault = sources::read_export(&self.export, &options)?;
        if let Some(sharing) = &self.sharing {
            sources::read_sharing(&mut vault, sharing, &options)?;
        }
        Ok(vault)
    }

    /// [`SourceArgs::read`] handing each entry to `each` instead of keeping
    /// it (see `sources::read_export_each`).
    pub fn read_each(&self, each: &mut dyn FnMut(crate::model::Entry)) -> Result<Vault, Error> {
        let options = self.options();
        let mut vault = sources::read_export_each(&self.export, &options, each)?;
        if let Some(sharing) = &self.sharing {
            sources::read_sharing(&mut vault, sharing, &options)?;
        }
        Ok(vault)
    }
}
