use serde::Serialize;

/// Who a folder or vault was shared with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Principal {
    /// Serialized as `{"email": …, "name": …}`.
    User {
        email: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Serialized as `{"group": …, "members": […]}`; `members` holds the
    /// emails the sharing data names (it may name none).
    Group {
        group: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        members: Vec<String>,
    },
}

impl Principal {
    pub fn user(email: impl Into<String>) -> Principal {
        Principal::User {
            email: email.into(),
            name: None,
        }
    }

    pub fn group(name: impl Into<String>) -> Principal {
        Principal::Group {
            group: name.into(),
            members: Vec::new(),
        }
    }
}

/// The access a source grants, in the vendors' common terms. The mapper
/// turns it into a workspace role (see ARCHITECTURE.md, "Access").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Access {
    /// May administer the folder or manage the vault (add/remove members).
    pub admin: bool,
    /// May create, edit, archive or delete items.
    pub edit: bool,
    /// May use the items but not see their passwords.
    pub hide_passwords: bool,
}

impl Access {
    /// Words for reports: "admin", "edit", "read-only", plus ", hide passwords".
    pub fn describe(&self) -> String {
        let base = if self.admin {
            "admin"
        } else if self.edit {
            "edit"
        } else {
            "read-only"
        };
        if self.hide_passwords {
            format!("{base}, {HIDE_PASSWORDS}")
        } else {
            base.to_owned()
        }
    }

    /// Whether a [`Access::describe`] text says the source hid passwords:
    /// reports read it off a grant's `source_access`, which is all a plan
    /// keeps of the source's rights.
    pub fn described_hides_passwords(described: &str) -> bool {
        described.ends_with(HIDE_PASSWORDS)
    }
}

/// The words [`Access::describe`] adds for a right that hid passwords.
pub const HIDE_PASSWORDS: &str = "hide passwords";

/// Whether the share is in force. Only `Active` becomes a grant; the others
/// are kept so the report can say who was left out and why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    #[default]
    Active,
    /// Invited to the share but never accepted it.
    Pending,
    /// The member was deleted from the source account.
    Deleted,
    /// Suspended, deprovisioned or otherwise not active in the source.
    Suspended,
}

/// The one entry an item share is on: the source names it by id, and the
/// title and folder are kept so a reviewer can tell which item it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct EntryRef {
    /// The entry's `Entry::source_id`.
    pub source_id: String,
    pub title: String,
    /// Where the entry is (`Entry::folder`); empty at the root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folder: Vec<String>,
}

/// Folder or vault → principal, with access; or, for a source that shares
/// single items (a CXF item's own `shared` extension), one entry →
/// principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Share {
    /// The folder's path (a LastPass shared folder, a 1Password vault).
    /// Empty on an item share: code that knows folder shares only then
    /// matches no folder with it, rather than widening one person's item
    /// to a whole folder.
    pub folder: Vec<String>,
    /// An item share: the entry it gives access to, and nothing else (not
    /// its folder's other entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<EntryRef>,
    pub principal: Principal,
    pub access: Access,
    pub status: ShareStatus,
    /// The source says this member is outside its enterprise (LastPass
    /// `outsideenterprise`); the mapper still decides by domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside_enterprise: Option<bool>,
    /// The permissions as the source wrote them, for the report
    /// ("can_administer=1 readonly=0 give=1", "manage_vault, edit_items").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_access: Option<String>,
}

impl Share {
    pub fn new(folder: Vec<String>, principal: Principal, access: Access) -> Share {
        Share {
            folder,
            item: None,
            principal,
            access,
            status: ShareStatus::Active,
            outside_enterprise: None,
            source_access: None,
        }
    }

    /// A share of one entry only.
    pub fn on_item(item: EntryRef, principal: Principal, access: Access) -> Share {
        Share {
            item: Some(item),
            ..Share::new(Vec::new(), principal, access)
        }
    }

    /// Where the share gives access, for messages: the folder's path, or
    /// the item's title after its folder's (`Ops/DB › Prod`).
    pub fn place(&self) -> String {
        match &self.item {
            None => self.folder.join("/"),
            Some(item) if item.folder.is_empty() => item.title.clone(),
            Some(item) => format!("{} › {}", item.folder.join("/"), item.title),
        }
    }
}
