//! What the list routes send in place of secret values: an admin's API
//! key lists accounts and secrets, it does not read every password of the
//! company. The HTTP target (`migrate --target`) still tells unchanged
//! from updated by the content hash computed here, where the values are,
//! and `verify --target` counts values by their digests.

use crate::diff::WorkspaceHasher;
use crate::verify::holdings::{account_digests, secret_digests};
use crate::workspace::wire::Withhold;
use crate::workspace::{Account, SecretItem, Snapshot, Withheld};

pub struct Listing(WorkspaceHasher);

impl Listing {
    pub fn new(snapshot: &Snapshot) -> Listing {
        Listing(WorkspaceHasher::new(snapshot))
    }
}

impl Withhold for Listing {
    fn account(&self, a: &Account) -> Withheld {
        Withheld {
            content_hash: self.0.account(a),
            value_digests: account_digests(a).iter().map(hex::encode).collect(),
        }
    }

    fn secret(&self, s: &SecretItem) -> Withheld {
        Withheld {
            content_hash: self.0.secret(s),
            value_digests: secret_digests(s).iter().map(hex::encode).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::super::{app, AppState, Config};
    use crate::model::{Attachment, Field};
    use crate::secret::Secret;
    use crate::workspace::service::ServiceStore as _;
    use crate::workspace::sqlite::SqliteWorkspace;
    use crate::workspace::{seed, Account, ImportKey, ItemImport, SecretItem, SecretType, Workspace as _};

    #[tokio::test]
    async fn the_list_routes_carry_no_secret_value_and_the_hash_of_what_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ws.db");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let ws = SqliteWorkspace::create(&db, false).unwrap();
        ws.init(&seed::load(&root.join("samples/workspace.toml"), None).unwrap())
            .unwrap();
        ws.create_account(&Account {
            id: 0,
            collection: None,
            name: "Mail".into(),
            url: None,
            urls: vec![],
            username: Some("olivia".into()),
            password: Some(Secret::text("LIST-MARKER-password")),
            totp: Some(Secret::text("LIST-MARKER-totp")),
            notes: Some("LIST-MARKER-notes".into()),
            fields: vec![Field::concealed("PIN", "LIST-MARKER-pin"), Field::plain("Region", "eu")],
            tags: vec![],
            attachments: vec![Attachment {
                name: "key.pem".into(),
                size: 16,
                content: Some(Secret::bytes(b"LIST-MARKER-file".to_vec())),
                source_id: None,
                digest: None,
                origin: None,
            }],
            import: ItemImport {
                import_key: Some(ImportKey::new("account:lastpass:1")),
                imported_hash: None,
                withheld: None,
            },
        })
        .unwrap();
        ws.create_secret(&SecretItem {
            id: 0,
            collection: None,
            secret_type: SecretType::Secret,
            title: "Note".into(),
            notes: Some("LIST-MARKER-note".into()),
            fields: vec![Field::concealed("Key", "LIST-MARKER-field")],
            tags: vec![],
            attachments: vec![],
            import: ItemImport {
                import_key: Some(ImportKey::new("secret:lastpass:2")),
                imported_hash: None,
                withheld: None,
            },
        })
        .unwrap();
        let snapshot = ws.snapshot().unwrap();
        let hashes = (
            crate::diff::workspace_account_hash(&snapshot.accounts[0], &snapshot),
            crate::diff::workspace_secret_hash(&snapshot.secrets[0], &snapshot),
        );
        let (owner, _) = ws.create_api_key("olivia@northwind.example").unwrap();
        let state = AppState::sqlite(ws, Config::new(&db)).unwrap();
        for (route, hash) in [("/api/v1/accounts", &hashes.0), ("/api/v1/secrets", &hashes.1)] {
            let req = Request::builder()
                .uri(route)
                .header("X-API-Key", &owner)
                .body(Body::empty())
                .unwrap();
            let response = app(state.clone()).oneshot(req).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{route}");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            assert!(!text.contains("LIST-MARKER"), "{route} carries a secret value: {text}");
            let body: serde_json::Value = serde_json::from_str(&text).unwrap();
            let item = &body["data"][0]["attributes"];
            assert_eq!(item["withheld"]["content_hash"], hash.as_str(), "{route}: {text}");
            assert!(!item["withheld"]["value_digests"].as_array().unwrap().is_empty());
            assert_eq!(item["fields"][0]["value"], "withheld", "{route}: {text}");
        }
    }
}
