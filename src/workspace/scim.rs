//! Members from an identity provider: a SCIM 2.0 `ListResponse` of Users
//! (RFC 7644 §3.4.2), which is what Okta and Entra ID export.
//!
//! Only what a member needs is read (email, name, active); the many
//! vendor extensions are ignored. The result is plain [`DirectoryUser`]s
//! that [`super::Seed::merge_directory`] folds into the seed.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::seed::normalize_email;
use super::WorkspaceError;
use crate::model::Position;

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// One user of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    /// Lowercase, trimmed.
    pub email: String,
    pub name: Option<String>,
    /// SCIM `active`; absent means active (the attribute is optional).
    pub active: bool,
    pub at: Position,
}

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(rename = "totalResults")]
    total_results: Option<u64>,
    #[serde(rename = "Resources")]
    resources: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(rename = "userName")]
    user_name: Option<String>,
    name: Option<Name>,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    #[serde(default)]
    emails: Vec<Email>,
    active: Option<bool>,
}

#[derive(Deserialize)]
struct Name {
    formatted: Option<String>,
    #[serde(rename = "givenName")]
    given_name: Option<String>,
    #[serde(rename = "familyName")]
    family_name: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    value: Option<String>,
    #[serde(default)]
    primary: bool,
}

/// Reads a SCIM `ListResponse` file.
pub fn read_scim(path: &Path) -> Result<Vec<DirectoryUser>, WorkspaceError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| WorkspaceError::Input {
        position: Position::file(&file),
        message: format!("cannot read the SCIM export: {e}"),
    })?;
    parse_scim(&file, &text)
}

fn input(position: Position, message: impl Into<String>) -> WorkspaceError {
    WorkspaceError::Input {
        position,
        message: message.into(),
    }
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Parses a SCIM `ListResponse`; `file` is used in errors.
pub fn parse_scim(file: &str, text: &str) -> Result<Vec<DirectoryUser>, WorkspaceError> {
    let list: ListResponse = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        input(
            Position::file(file).line(e.line() as u64),
            format!("not a SCIM ListResponse: {e}"),
        )
    })?;
    if !list.schemas.is_empty() && !list.schemas.iter().any(|s| s == LIST_RESPONSE) {
        return Err(input(
            Position::file(file).field("schemas"),
            format!("expected the schema {LIST_RESPONSE} (a ListResponse of Users)"),
        ));
    }
    let Some(resources) = list.resources else {
        return Err(input(
            Position::file(file).field("Resources"),
            "missing: expected a SCIM ListResponse with a `Resources` array of Users",
        ));
    };
    // A paged response (RFC 7644 §3.4.2.4) holds only `itemsPerPage` users:
    // importing one page would silently leave everyone else out.
    if let Some(total) = list.total_results {
        if total > resources.len() as u64 {
            return Err(input(
                Position::file(file).field("totalResults"),
                format!(
                    "the file holds {} of {total} users (one page of a paged response): \
                     expected the whole directory in one ListResponse",
                    resources.len()
                ),
            ));
        }
    }

    let mut users = Vec::with_capacity(resources.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, value) in resources.into_iter().enumerate() {
        let at = |field: &str| {
            Position::file(file)
                .record(i as u64)
                .field(format!("Resources[{i}].{field}"))
        };
        let user: User =
            serde_json::from_value(value).map_err(|e| input(at("*"), format!("expected a SCIM User: {e}")))?;
        if !user.schemas.is_empty() && !user.schemas.iter().any(|s| s == USER) {
            return Err(input(
                at("schemas"),
                format!("expected a User (schema {USER}); groups and other resources belong in other files"),
            ));
        }
        // Okta and Entra put the sign-in address in `userName` and may omit
        // `emails`; the primary email wins when both are there.
        let primary = user
            .emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| user.emails.first())
            .and_then(|e| nonempty(e.value.as_deref()));
        let (candidate, field) = match primary {
            Some(e) => (e, "emails"),
            None => match nonempty(user.user_name.as_deref()) {
                Some(u) => (u, "userName"),
                None => {
                    return Err(input(
                        at("emails"),
                        "no email: expected `emails` or an email in `userName`",
                    ))
                }
            },
        };
        let Some(email) = normalize_email(&candidate) else {
            return Err(input(
                at(field),
                format!("`{}` is not an email address: expected local@domain.example", candidate),
            ));
        };
        if let Some(first) = seen.insert(email.clone(), i) {
            return Err(input(
                at(field),
                format!("duplicate user {email}: Resources[{first}] has the same email"),
            ));
        }
        let name = user.name.as_ref().and_then(|n| {
            nonempty(n.formatted.as_deref()).or_else(|| {
                let parts: Vec<String> = [&n.given_name, &n.family_name]
                    .into_iter()
                    .filter_map(|p| nonempty(p.as_deref()))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
        });
        users.push(DirectoryUser {
            email,
            name: name.or_else(|| nonempty(user.display_name.as_deref())),
            active: user.active.unwrap_or(true),
            at: at(field),
        });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2,
  "Resources": [
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Dana@Northwind.example",
     "name": {"givenName": "Dana", "familyName": "Kim"},
     "emails": [{"value": "dana.kim@nwr.example"}, {"value": "Dana@Northwind.example", "primary": true}],
     "active": true},
    {"userName": "felix@northwind.example", "displayName": "Felix Wu", "active": false}
  ]
}"#;

    #[test]
    fn reads_users() {
        let users = parse_scim("u.json", LIST).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].email, "dana@northwind.example");
        assert_eq!(users[0].name.as_deref(), Some("Dana Kim"));
        assert!(users[0].active);
        assert_eq!(users[1].name.as_deref(), Some("Felix Wu"));
        assert!(!users[1].active);
    }

    #[test]
    fn refuses_a_single_page_and_bad_records() {
        let e = parse_scim("u.json", &LIST.replace("\"totalResults\": 2", "\"totalResults\": 200")).unwrap_err();
        assert!(e.to_string().contains("2 of 200 users"), "{e}");
        let e = parse_scim("u.json", &LIST.replace("felix@northwind.example", "felix")).unwrap_err();
        assert!(e.to_string().contains("Resources[1].userName"), "{e}");
        let e = parse_scim("u.json", &LIST.replace("felix@", "dana@")).unwrap_err();
        assert!(e.to_string().contains("duplicate user dana@"), "{e}");
        let e = parse_scim("u.json", "{\"schemas\": [\"x\"]\n, \"Resources\": 5}").unwrap_err();
        assert!(e.to_string().starts_with("u.json:line 2"), "{e}");
    }
}
