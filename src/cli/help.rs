//! What each command's `--help` ends with: examples a new user can copy.
//! They name files by what they are (`export.csv`, `sharing.json`), never
//! a file of the repository, which an installed binary has not got beside
//! it; the formats are `vaultferry explain`'s to show.

pub const TOP: &str = "\
Exit status:
  0  success
  1  the dry run found something a flag asked to fail on (plan --fail-on-changes:
     the import would write something, or the export has error findings)
  2  unusable input or setup (the message names the file, line and field)

A closed pipe (`vaultferry inspect … | head`) ends quietly with 0.

Examples:
  vaultferry workspace init --db vaultferry.db --seed workspace.toml
  vaultferry plan export.csv --sharing sharing.json --db vaultferry.db --report plan.html
  vaultferry migrate export.csv --sharing sharing.json --db vaultferry.db
  vaultferry explain policy";

pub const INSPECT: &str = "\
Examples:
  vaultferry inspect export.csv
  vaultferry inspect export.1pux --sharing permissions.json
  vaultferry inspect export.csv --json > vault.json";

pub const WORKSPACE: &str = "\
Examples:
  vaultferry workspace init --db vaultferry.db --seed workspace.toml
  vaultferry workspace show --db vaultferry.db";

pub const WORKSPACE_INIT: &str = "\
Secret values are sealed in the database with the workspace key, made beside it as
DB.key (vaultferry.db.key, owner-only) unless --key-file or VAULTFERRY_WORKSPACE_KEY
gives one. Back it up apart from the database: without it the values cannot be read.

Examples:
  vaultferry workspace init --db vaultferry.db --seed workspace.toml
  vaultferry workspace init --db vaultferry.db --seed workspace.toml --scim okta.json
  vaultferry explain workspace-seed";

pub const WORKSPACE_SHOW: &str = "\
Examples:
  vaultferry workspace show --db vaultferry.db
  vaultferry workspace show --db vaultferry.db --json";

pub const PLAN: &str = "\
Examples:
  vaultferry plan export.csv --sharing sharing.json --db vaultferry.db
  vaultferry plan export.csv --sharing sharing.json --db vaultferry.db --report plan.html
  vaultferry plan export.1pux --sharing perms.json --db vaultferry.db --policy vaultferry.toml
  vaultferry plan export.csv --db vaultferry.db --json > plan.json
  vaultferry plan export.csv --db vaultferry.db --fail-on-changes -q";

pub const MIGRATE: &str = "\
Exit status: 0 written and verified; 1 the workspace does not hold what was written, or
verify found unexpected differences; 2 unusable input or setup; 130 stopped by Ctrl-C
(run the same command again to continue).

Examples:
  vaultferry migrate export.csv --sharing sharing.json --db vaultferry.db
  vaultferry migrate export.csv --sharing sharing.json --db vaultferry.db -y --report run.html
  vaultferry migrate export.1pux --sharing perms.json --db vaultferry.db --smtp smtp://mail:25
  vaultferry migrate export.csv --target http://127.0.0.1:8080 --api-key \"$(cat a.key)\" -y";

pub const SERVE: &str = "\
Examples:
  vaultferry serve --db vaultferry.db
  vaultferry serve --db vaultferry.db --listen 127.0.0.1:0 --workers 4
  vaultferry explain api";

pub const APIKEY: &str = "\
Examples:
  vaultferry apikey create --db vaultferry.db --as admin@example.com > a.key
  vaultferry apikey create --db vaultferry.db --as admin@example.com --expires 30 > a.key
  vaultferry apikey list --db vaultferry.db
  vaultferry apikey revoke --db vaultferry.db 3";

pub const APIKEY_CREATE: &str = "\
Examples:
  vaultferry apikey create --db vaultferry.db --as admin@example.com > a.key
  vaultferry apikey create --db vaultferry.db --as admin@example.com --expires 30 > a.key";

pub const APIKEY_LIST: &str = "\
Examples:
  vaultferry apikey list --db vaultferry.db
  vaultferry apikey list --db vaultferry.db --as admin@example.com";

pub const APIKEY_REVOKE: &str = "\
Examples:
  vaultferry apikey revoke --db vaultferry.db 3
  vaultferry apikey revoke --db vaultferry.db vfk_1a2b3c4d";

pub const MEMBER: &str = "\
Examples:
  vaultferry member set-password --db vaultferry.db --email admin@example.com
  vaultferry member set-password --db vaultferry.db --email admin@example.com < password.txt";

pub const MEMBER_SET_PASSWORD: &str = "\
Examples:
  vaultferry member set-password --db vaultferry.db --email admin@example.com
  vaultferry member set-password --db vaultferry.db --email admin@example.com < password.txt";

pub const GENERATE: &str = "\
Examples:
  vaultferry generate --format lastpass-csv --entries 100000 --out big.csv
  vaultferry generate --format 1pux --entries 10000 --seed 7 --out big.1pux
  vaultferry generate --format lastpass-csv --entries 5000 --adversarial all --out x.csv";

pub const VERIFY: &str = "\
Exit status:
  0  nothing unexpected: every difference is one a mapping rule explains
  1  unexpected differences (each line names the person, item, source right and workspace role)
  2  unusable input or setup

Examples:
  vaultferry verify export.csv --sharing sharing.json --db vaultferry.db
  vaultferry verify export.csv --sharing sharing.json --db vaultferry.db --json
  vaultferry verify export.csv --target http://127.0.0.1:8080 --api-key \"$(cat a.key)\"";

pub const EXPORT: &str = "\
The file holds every secret value: it is created owner-only, and on a terminal the
command asks first (pass --yes where there is none).

Examples:
  vaultferry export --format cxf --db vaultferry.db --out workspace.cxf.json
  vaultferry export --format cxf --db vaultferry.db --out ops.cxf.json --collection Ops -y
  vaultferry explain cxf";

pub const CONVERT: &str = "\
Examples:
  vaultferry convert export.csv --sharing sharing.json --to cxf --out vault.cxf.json
  vaultferry convert export.1pux --sharing perms.json --to cxf --out vault.cxf.json -y";

pub const EXPLAIN: &str = "\
Examples:
  vaultferry explain
  vaultferry explain policy
  vaultferry explain lastpass-sharing
  vaultferry explain mapper.guest-role-lowered";
