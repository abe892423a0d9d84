//! Inviting, listing and removing guests outside the importer.
//!
//! An admin's direct invite ("Add member → Guest") and a local partner's
//! Guest Admin inviting for that partner go through the same path as the
//! importer's invitations: the guest member, the invitation and a pending
//! outbox row commit together, then the email is written to the outbox
//! (`apply::invitations`) and only then marked delivered; one that fails
//! stays pending and the next import run delivers it with a new password.
//! The temporary password exists only in that email.

use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::resource;
use super::auth::Caller;
use super::error::ApiJson;
use super::member_views::{page_document, Cursor};
use super::{blocking, AppError, AppState};
use crate::apply::invitations;
use crate::workspace::seed::role_from_name;
use crate::workspace::views::{administers, DirectInvite, InvitedGuest};
use crate::workspace::{Member, Role};

/// Admin routes answer 403 to everyone else, naming the caller's role.
fn require_admin(me: &Member) -> Result<(), AppError> {
    if administers(me) {
        return Ok(());
    }
    Err(AppError::new(
        StatusCode::FORBIDDEN,
        format!(
            "{} is a member with the role {}: only the workspace owner, super admins and admins may do this",
            me.email,
            me.role.name()
        ),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct PeopleQuery {
    #[serde(rename = "filter[role]")]
    role: Option<String>,
    #[serde(flatten)]
    cursor: Cursor,
}

/// `GET /api/v1/people`: members for an admin, `filter[role]=guest` for
/// the guests only.
pub async fn people(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Query(query): Query<PeopleQuery>,
) -> Result<Json<Value>, AppError> {
    require_admin(&me)?;
    let page = query.cursor.checked()?;
    let role = match query.role.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(role_from_name(r).ok_or_else(|| {
            AppError::bad_request("filter[role] must be one of owner, super_admin, admin, user, login_only, guest")
        })?),
    };
    let views = state.views.clone();
    let rows = blocking(move || Ok(views.people(role, page)?)).await?;
    let filter = role.map(|r| format!("filter[role]={}&", r.name())).unwrap_or_default();
    page_document("member", "/api/v1/people", &filter, page, rows, |p| p.member.id)
}

#[derive(Debug, Deserialize)]
pub struct InviteDocument {
    data: InviteData,
}

#[derive(Debug, Deserialize)]
pub struct InviteData {
    #[serde(rename = "type")]
    kind: String,
    attributes: InviteAttributes,
}

#[derive(Debug, Deserialize)]
pub struct InviteAttributes {
    email: String,
    #[serde(default)]
    name: Option<String>,
}

/// An address an invitation can go to: one `@`, a local part, a domain
/// with a dot, nothing that would break a mail header.
/// `field` names where the address came from in the refusal.
fn checked_email(raw: &str, field: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && match email.split_once('@') {
            Some((local, domain)) => !local.is_empty() && domain_name(domain),
            None => false,
        };
    if ok {
        Ok(email)
    } else {
        Err(AppError::unprocessable(format!(
            "{field} must be one email address (name@domain.example; the domain in ASCII letters, digits, hyphens and dots, an international one in its xn-- form)"
        )))
    }
}

/// A host name of two labels or more, each ASCII letters, digits and
/// inner hyphens (an IDN in its `xn--` form): the company-domain and
/// partner-domain rules compare names, so a look-alike such as
/// `northwind.example` followed by an invisible character, or with a `!`,
/// must not pass as some other domain.
fn domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Who may invite, and for which partner: members of every role but guest
/// and login-only; of the guests, only a local partner's Guest Admin.
fn inviter_scope(me: &Member, guest_admin_of: Option<i64>) -> Result<Option<i64>, AppError> {
    match me.role {
        Role::Owner | Role::SuperAdmin | Role::Admin | Role::User => Ok(None),
        Role::Guest => guest_admin_of.map(Some).ok_or_else(|| {
            AppError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is a guest: guests cannot invite guests (only a local partner's Guest Admin invites, for that partner)",
                    me.email
                ),
            )
        }),
        Role::LoginOnly => Err(AppError::new(
            StatusCode::FORBIDDEN,
            format!("{} is a login-only member: login-only members cannot invite guests", me.email),
        )),
    }
}

/// `POST /api/v1/guests`: invites one address as a guest.
pub async fn invite(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    body: ApiJson<InviteDocument>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let doc = body.value;
    if doc.data.kind != "guest" {
        return Err(AppError::unprocessable("data.type must be \"guest\""));
    }
    let (invited, delivered) = invite_guest(
        &state,
        me,
        &doc.data.attributes.email,
        doc.data.attributes.name,
        "data.attributes.email",
    )
    .await?;
    let mut attributes = serde_json::to_value(&invited.member).map_err(AppError::internal)?;
    if let Some(map) = attributes.as_object_mut() {
        map.insert("username".into(), json!(invited.username));
        map.insert("local_partner".into(), json!(invited.partner));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "data": resource("member", attributes),
            "links": { "self": "/api/v1/people?filter[role]=guest" },
            "meta": { "invitation": { "delivered": delivered } },
        })),
    ))
}

/// Invites `raw_email` as a guest for `me`, with the rules of
/// [`inviter_scope`] and the store's (never a company address, never a
/// member's): the JSON route and the Guests page's form both come here.
/// The second value says whether the email reached the outbox.
pub(super) async fn invite_guest(
    state: &AppState,
    me: Member,
    raw_email: &str,
    name: Option<String>,
    field: &str,
) -> Result<(InvitedGuest, bool), AppError> {
    let email = checked_email(raw_email, field)?;
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let views = state.views.clone();
    let workspace = state.workspace.clone();
    let outbox = state.config.outbox.clone();
    let base_url = state.config.base_url.clone();
    blocking(move || {
        let guest_admin_of = match me.role {
            Role::Guest => views.guest_admin_partner(me.id)?,
            _ => None,
        };
        let for_partner = inviter_scope(&me, guest_admin_of)?;
        let header = views.workspace_header()?;
        let password = invitations::temporary_password(&header.password_policy);
        let (hash, salt) = invitations::hash_password(&password).map_err(AppError::internal)?;
        let invited = views.invite_guest(&DirectInvite {
            email: email.clone(),
            name: name.clone(),
            username_base: invitations::username_for(&email, &mut HashSet::new()),
            password_hash: hash,
            salt,
            inviter: me.email.clone(),
            for_partner,
        })?;
        let mail = invitations::Invitation {
            join_url: invitations::join_url(base_url.as_deref(), &header.id),
            workspace_name: header.name,
            workspace_id: header.id,
            email: email.clone(),
            name,
            username: invited.username.clone(),
            password,
        };
        // A failed email leaves the invitation pending: the next import
        // run delivers it (with a new password), as for the importer's own.
        let delivered = match invitations::write_eml(&outbox, &mail) {
            Ok(_) => {
                workspace.invitation_delivered(&invited.import_key, "outbox")?;
                true
            }
            Err(e) => {
                eprintln!("vaultferry serve: the invitation to {email} stays pending: {e}");
                false
            }
        };
        Ok((invited, delivered))
    })
    .await
}

/// Removes the guest `raw` names for `me` (an admin; asked before the id
/// is read): the JSON route and the Guests page's form both come here.
pub(super) async fn remove_guest(state: &AppState, me: Member, raw: &str) -> Result<Member, AppError> {
    require_admin(&me)?;
    let id = guest_id(raw)?;
    let views = state.views.clone();
    blocking(move || Ok(views.remove_guest(&me.email, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("guest"))
}

fn guest_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("guest"))
}

/// `DELETE /api/v1/guests/{id}`: the guest leaves the workspace.
pub async fn remove(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, AppError> {
    let removed = remove_guest(&state, me, &raw).await?;
    let attributes = serde_json::to_value(&removed).map_err(AppError::internal)?;
    Ok(Json(json!({
        "data": resource("member", attributes),
        "links": { "self": format!("/api/v1/guests/{}", removed.id) },
        "meta": {},
    })))
}

/// `DELETE /api/v1/guests/{id}/grants/{grant}`: one grant made to the
/// guest, on one item, goes; what reaches them through a team or their
/// partner is that team's or partner's grant and is not touched here.
pub async fn remove_grant(
    State(state): State<AppState>,
    Extension(Caller(me)): Extension<Caller>,
    Path((raw, raw_grant)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    require_admin(&me)?;
    let id = guest_id(&raw)?;
    let grant = raw_grant
        .parse::<i64>()
        .map_err(|_| AppError::not_found("grant of that guest"))?;
    let views = state.views.clone();
    let removed = blocking(move || Ok(views.remove_guest_grant(&me.email, id, grant)?)).await?;
    if !removed {
        return Err(AppError::not_found("grant of that guest"));
    }
    Ok(Json(json!({
        "data": null,
        "meta": { "removed": { "grant": grant.to_string(), "guest": id.to_string() } },
    })))
}
