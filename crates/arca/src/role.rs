//! `arca role ...`: role definitions and role assignments through the admin API, including the
//! conversion of an Azure custom-role file into the admin API's body. Actions are not judged
//! here (the server does); the file conversion only refuses what it cannot map faithfully.

use std::path::PathBuf;

use anyhow::Context;
use arca_client::Request;
use arca_proto::admin::{
    AccessDecision, Assign, Assignment, AssignmentQuery, CheckAccess, DefineRole, List, Role,
};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use crate::output::{fields, list_section, opt, time, Table};
use crate::session::{Call, Operation};

#[derive(Subcommand)]
pub enum RoleCommand {
    /// List role definitions, built-in first.
    List,
    /// Show a role definition.
    Show {
        /// Role id or name (names compare case-insensitively).
        role: String,
    },
    /// Delete a custom role that has no assignments.
    Delete {
        /// Role id or name.
        role: String,
    },
    /// Define a custom role from flags or from a role file.
    Define(DefineArgs),
    /// Assign a role to a principal at a scope.
    Assign {
        /// Role id or name.
        #[arg(long)]
        role: String,
        /// Client id or object id.
        #[arg(long)]
        principal: String,
        /// `/`, `/vaults/{vault}` or `/vaults/{vault}/{secrets|keys|certificates}/{name}`.
        #[arg(long)]
        scope: String,
    },
    /// Remove a role assignment.
    Unassign { assignment_id: String },
    /// Tell whether a principal may perform an action at a scope, and through which assignment
    /// (the decision the data plane would take).
    Check {
        /// Client id or object id.
        #[arg(long)]
        principal: String,
        /// The data action, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
        #[arg(long)]
        action: String,
        /// The resource scope, e.g. `/vaults/{vault}/secrets/{name}`.
        #[arg(long)]
        scope: String,
    },
    /// List role assignments, optionally of one principal or at one scope.
    Assignments {
        /// Only this principal's (client id or object id).
        #[arg(long)]
        principal: Option<String>,
        /// Only those at exactly this scope.
        #[arg(long)]
        scope: Option<String>,
    },
}

#[derive(Args)]
pub struct DefineArgs {
    /// Name of the new role.
    #[arg(long, required_unless_present = "file", conflicts_with = "file")]
    name: Option<String>,
    /// What the role is for.
    #[arg(long, value_name = "TEXT", conflicts_with = "file")]
    description: Option<String>,
    /// A data action the role grants (`*` matches anything); repeat or list several.
    #[arg(
        long = "data-action",
        value_name = "ACTION",
        num_args = 1..,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    data_actions: Vec<String>,
    /// A data action excluded from those granted; repeat or list several.
    #[arg(
        long = "not-data-action",
        value_name = "ACTION",
        num_args = 1..,
        conflicts_with = "file"
    )]
    not_data_actions: Vec<String>,
    /// A role file: Azure's custom-role JSON (Name, Description, DataActions, NotDataActions;
    /// AssignableScopes and IsCustom are ignored) or the admin API's own body.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

/// A role file converted to the admin API's body, with what was dropped from it.
#[derive(Debug)]
struct RoleFile {
    body: DefineRole,
    ignored: Vec<String>,
}

/// Converts a role file into the admin API's body. Member names are matched ignoring case and
/// underscores, so Azure's `DataActions`, `dataActions` and the API's `data_actions` all map.
/// Azure's control-plane `Actions`/`NotActions` mean nothing to Arca: they are dropped (and
/// named in `ignored`, to be reported); an unknown member is refused, so a misspelt one does not
/// silently grant less than meant.
fn convert_role_file(text: &str) -> anyhow::Result<RoleFile> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let members: Map<String, Value> =
        serde_json::from_str(text).context("the role file is not a JSON object")?;
    let mut name = None;
    let mut description = None;
    let mut data_actions = None;
    let mut not_data_actions = None;
    let mut ignored = Vec::new();
    for (key, value) in members {
        let slot = match key.to_ascii_lowercase().replace('_', "").as_str() {
            "name" | "rolename" => &mut name,
            "description" => &mut description,
            "dataactions" => &mut data_actions,
            "notdataactions" => &mut not_data_actions,
            "actions" | "notactions" => {
                if !strings(&key, value)?.is_empty() {
                    ignored.push(key);
                }
                continue;
            }
            "assignablescopes" | "iscustom" => continue,
            _ => anyhow::bail!("unknown member {key:?} in the role file"),
        };
        if slot.replace((key.clone(), value)).is_some() {
            anyhow::bail!("the role file gives {key:?} twice");
        }
    }
    let Some((_, Value::String(name))) = name else {
        anyhow::bail!("the role file has no Name string");
    };
    let description = match description {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::String(d))) => Some(d),
        Some((key, _)) => anyhow::bail!("{key:?} in the role file is not a string"),
    };
    let Some((key, value)) = data_actions else {
        anyhow::bail!("the role file has no DataActions");
    };
    let data_actions = strings(&key, value)?;
    let not_data_actions = not_data_actions
        .map(|(key, value)| strings(&key, value))
        .transpose()?;
    Ok(RoleFile {
        body: DefineRole {
            data_actions,
            description,
            name,
            not_data_actions,
        },
        ignored,
    })
}

/// A list of strings from a role file (`null` counts as empty).
fn strings(key: &str, value: Value) -> anyhow::Result<Vec<String>> {
    let not_a_list = || anyhow::anyhow!("{key:?} in the role file is not a list of strings");
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(values) => values
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(not_a_list()),
            })
            .collect(),
        _ => Err(not_a_list()),
    }
}

impl DefineArgs {
    fn body(&self) -> anyhow::Result<DefineRole> {
        if let Some(file) = &self.file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the role file {}", file.display()))?;
            let converted = convert_role_file(&text)
                .with_context(|| format!("cannot use the role file {}", file.display()))?;
            for key in converted.ignored {
                eprintln!(
                    "arca: note: ignoring {key} in {}: Arca's roles hold data actions only",
                    file.display()
                );
            }
            return Ok(converted.body);
        }
        Ok(DefineRole {
            data_actions: self.data_actions.clone(),
            description: self.description.clone(),
            name: self.name.clone().unwrap_or_default(),
            not_data_actions: (!self.not_data_actions.is_empty())
                .then(|| self.not_data_actions.clone()),
        })
    }
}

fn roles_table(answer: &List<Role>) -> String {
    Table::of(&["NAME", "TYPE", "ID"], &answer.value, |r| {
        vec![
            r.name.clone(),
            r.role_type.as_str().to_owned(),
            r.id.clone(),
        ]
    })
    .render("")
}

fn role_table(r: &Role) -> String {
    fields(&[
        ("name", r.name.clone()),
        ("id", r.id.clone()),
        ("type", r.role_type.as_str().to_owned()),
        ("description", r.description.clone()),
    ]) + &list_section("data actions", &r.data_actions)
        + &list_section("not data actions", &r.not_data_actions)
}

fn assignments_table(answer: &List<Assignment>) -> String {
    Table::of(
        &["ID", "ROLE", "PRINCIPAL", "SCOPE", "CREATED"],
        &answer.value,
        |a| {
            vec![
                a.id.clone(),
                opt(a.role_name.as_deref()),
                a.principal_client_id.clone(),
                a.scope.clone(),
                time(a.created),
            ]
        },
    )
    .render("")
}

fn assignment_table(a: &Assignment) -> String {
    fields(&[
        ("id", a.id.clone()),
        ("role", opt(a.role_name.as_deref())),
        ("role id", a.role_id.clone()),
        ("principal client id", a.principal_client_id.clone()),
        ("principal object id", a.principal_object_id.clone()),
        ("scope", a.scope.clone()),
        ("created", time(a.created)),
    ])
}

fn decision_table(d: &AccessDecision) -> String {
    let decision = if d.allowed { "allowed" } else { "denied" };
    fields(&[
        ("decision", decision.to_owned()),
        ("role", opt(d.role_name.as_deref())),
        ("role assignment", opt(d.role_assignment_id.as_deref())),
        ("reason", d.reason.clone()),
    ])
}

impl Operation for RoleCommand {
    fn call(&self) -> anyhow::Result<Call> {
        Ok(match self {
            Self::List => Call::answer(Request::roles(), roles_table),
            Self::Show { role } => Call::answer(Request::role(role)?, role_table),
            Self::Delete { role } => Call::deleted(Request::delete_role(role)?, "role", role),
            Self::Define(args) => Call::answer(Request::define_role(&args.body()?)?, role_table),
            Self::Assign {
                role,
                principal,
                scope,
            } => {
                let body = Assign {
                    principal: principal.clone(),
                    role: role.clone(),
                    scope: scope.clone(),
                };
                Call::answer(Request::assign(&body)?, assignment_table)
            }
            Self::Unassign { assignment_id } => Call::deleted(
                Request::unassign(assignment_id)?,
                "role assignment",
                assignment_id,
            ),
            Self::Check {
                principal,
                action,
                scope,
            } => {
                let body = CheckAccess {
                    action: action.clone(),
                    principal: principal.clone(),
                    scope: scope.clone(),
                };
                Call::answer(Request::check_access(&body)?, decision_table)
            }
            Self::Assignments { principal, scope } => {
                let query = AssignmentQuery {
                    principal: principal.clone(),
                    scope: scope.clone(),
                };
                Call::answer(Request::assignments(&query)?, assignments_table)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use arca_proto::admin::{AccessDecision, Assignment, DefineRole, List, Role};
    use hyper::{Method, StatusCode};

    use super::convert_role_file;
    use crate::tests::{call, sends, usage_error};

    #[test]
    fn list_show_delete() {
        sends(
            &["role", "list"],
            Method::GET,
            "/admin/roles",
            StatusCode::OK,
        );
        let c = call(&["role", "show", "Key Vault Secrets User"]).unwrap();
        assert_eq!(c.path, "/admin/roles/Key%20Vault%20Secrets%20User");
        sends(
            &["role", "delete", "reader"],
            Method::DELETE,
            "/admin/roles/reader",
            StatusCode::NO_CONTENT,
        );
    }

    #[test]
    fn define_from_flags() {
        let c = sends(
            &[
                "role",
                "define",
                "--name",
                "reader",
                "--description",
                "reads secrets",
                "--data-action",
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                "--data-action",
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                "--not-data-action",
                "Microsoft.KeyVault/vaults/secrets/delete",
            ],
            Method::POST,
            "/admin/roles",
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(concat!(
                r#"{"data_actions":["Microsoft.KeyVault/vaults/secrets/getSecret/action","#,
                r#""Microsoft.KeyVault/vaults/secrets/readMetadata/action"],"#,
                r#""description":"reads secrets","name":"reader","#,
                r#""not_data_actions":["Microsoft.KeyVault/vaults/secrets/delete"]}"#
            ))
        );
        // Several actions after one flag work too.
        let c = call(&["role", "define", "--name", "r", "--data-action", "a", "b"]).unwrap();
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"data_actions":["a","b"],"name":"r"}"#)
        );
    }

    #[test]
    fn define_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("role.json");
        std::fs::write(
            &file,
            r#"{"Name": "reader", "IsCustom": true, "Description": "d", "Actions": [],
                "DataActions": ["Microsoft.KeyVault/vaults/secrets/*"], "NotDataActions": [],
                "AssignableScopes": ["/"]}"#,
        )
        .unwrap();
        let c = call(&["role", "define", "--file", file.to_str().unwrap()]).unwrap();
        assert_eq!(
            c.body.as_deref(),
            Some(
                r#"{"data_actions":["Microsoft.KeyVault/vaults/secrets/*"],"description":"d","name":"reader","not_data_actions":[]}"#
            )
        );
        let missing = dir.path().join("missing.json");
        assert!(call(&["role", "define", "--file", missing.to_str().unwrap()]).is_err());
    }

    #[test]
    fn define_usage_errors() {
        assert!(usage_error(&["role", "define"]));
        assert!(usage_error(&["role", "define", "--name", "r"]));
        assert!(usage_error(&["role", "define", "--data-action", "a"]));
        assert!(usage_error(&[
            "role",
            "define",
            "--file",
            "r.json",
            "--name",
            "r",
            "--data-action",
            "a"
        ]));
        assert!(usage_error(&[
            "role",
            "define",
            "--file",
            "r.json",
            "--description",
            "d"
        ]));
    }

    #[test]
    fn assignments() {
        let c = sends(
            &[
                "role",
                "assign",
                "--role",
                "Key Vault Secrets User",
                "--principal",
                "ci",
                "--scope",
                "/vaults/team-a",
            ],
            Method::POST,
            "/admin/role-assignments",
            StatusCode::CREATED,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(r#"{"principal":"ci","role":"Key Vault Secrets User","scope":"/vaults/team-a"}"#)
        );
        sends(
            &["role", "unassign", "a1"],
            Method::DELETE,
            "/admin/role-assignments/a1",
            StatusCode::NO_CONTENT,
        );
        sends(
            &["role", "assignments"],
            Method::GET,
            "/admin/role-assignments",
            StatusCode::OK,
        );
        let c = call(&["role", "assignments", "--principal", "ci", "--scope", "/"]).unwrap();
        assert_eq!(c.path, "/admin/role-assignments?principal=ci&scope=%2F");
        let c = call(&["role", "assignments", "--scope", "/vaults/v"]).unwrap();
        assert_eq!(c.path, "/admin/role-assignments?scope=%2Fvaults%2Fv");
        assert!(usage_error(&[
            "role",
            "assign",
            "--role",
            "r",
            "--principal",
            "p"
        ]));
        assert!(usage_error(&["role", "unassign"]));
    }

    #[test]
    fn check() {
        let c = sends(
            &[
                "role",
                "check",
                "--principal",
                "ci",
                "--action",
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                "--scope",
                "/vaults/v/secrets/s",
            ],
            Method::POST,
            "/admin/check-access",
            StatusCode::OK,
        );
        assert_eq!(
            c.body.as_deref(),
            Some(
                r#"{"action":"Microsoft.KeyVault/vaults/secrets/getSecret/action","principal":"ci","scope":"/vaults/v/secrets/s"}"#
            )
        );
        assert!(usage_error(&[
            "role",
            "check",
            "--principal",
            "ci",
            "--action",
            "a"
        ]));
        let shown = super::decision_table(&AccessDecision {
            action: "a".into(),
            allowed: false,
            reason: "no assignment".into(),
            role_assignment_id: None,
            role_name: None,
            scope: "/".into(),
        });
        assert_eq!(
            shown,
            "decision:         denied\nrole:             -\nrole assignment:  -\nreason:           no assignment\n"
        );
    }

    #[test]
    fn azure_role_files_convert() {
        // As `az role definition create --role-definition` takes it, with a byte-order mark.
        let azure =
            "\u{feff}{\"Name\": \"Secret Reader\", \"IsCustom\": true, \"Description\": \"reads\",
            \"Actions\": [\"Microsoft.KeyVault/vaults/read\"], \"NotActions\": [],
            \"DataActions\": [\"Microsoft.KeyVault/vaults/secrets/getSecret/action\"],
            \"NotDataActions\": [\"Microsoft.KeyVault/vaults/secrets/setSecret/action\"],
            \"AssignableScopes\": [\"/subscriptions/0000\"]}";
        let converted = convert_role_file(azure).unwrap();
        assert_eq!(
            converted.body,
            DefineRole {
                data_actions: vec!["Microsoft.KeyVault/vaults/secrets/getSecret/action".into()],
                description: Some("reads".into()),
                name: "Secret Reader".into(),
                not_data_actions: Some(vec![
                    "Microsoft.KeyVault/vaults/secrets/setSecret/action".into()
                ]),
            }
        );
        assert_eq!(converted.ignored, ["Actions"]);

        // Lower camel case, no Actions, no description, assignableScopes.
        let camel = r#"{"name": "r", "dataActions": ["a"], "assignableScopes": ["/"]}"#;
        let converted = convert_role_file(camel).unwrap();
        assert_eq!(
            converted.body,
            DefineRole {
                data_actions: vec!["a".into()],
                description: None,
                name: "r".into(),
                not_data_actions: None,
            }
        );
        assert!(converted.ignored.is_empty());

        // The admin API's own body passes through.
        let api = r#"{"name": "r", "description": null, "data_actions": ["a"], "not_data_actions": ["b"]}"#;
        assert_eq!(
            convert_role_file(api).unwrap().body,
            DefineRole {
                data_actions: vec!["a".into()],
                description: None,
                name: "r".into(),
                not_data_actions: Some(vec!["b".into()]),
            }
        );
    }

    #[test]
    fn bad_role_files_are_refused_with_the_reason() {
        for (file, why) in [
            ("[]", "not a JSON object"),
            ("{", "not a JSON object"),
            (r#"{"DataActions": ["a"]}"#, "no Name"),
            (r#"{"Name": 7, "DataActions": ["a"]}"#, "no Name"),
            (r#"{"Name": "r"}"#, "no DataActions"),
            (
                r#"{"Name": "r", "DataAction": ["a"]}"#,
                "unknown member \"DataAction\"",
            ),
            (
                r#"{"Name": "r", "name": "s", "DataActions": ["a"]}"#,
                "twice",
            ),
            (
                r#"{"Name": "r", "DataActions": "a"}"#,
                "not a list of strings",
            ),
            (
                r#"{"Name": "r", "DataActions": [1]}"#,
                "not a list of strings",
            ),
            (
                r#"{"Name": "r", "DataActions": ["a"], "Actions": {}}"#,
                "not a list of strings",
            ),
            (
                r#"{"Name": "r", "Description": [], "DataActions": ["a"]}"#,
                "not a string",
            ),
        ] {
            let e = convert_role_file(file).err().unwrap();
            assert!(e.to_string().contains(why), "{file}: {e}");
        }
    }

    #[test]
    fn role_tables() {
        let r: Role = serde_json::from_str(
            r#"{"id": "r1", "name": "Key Vault Secrets User", "description": "Read secret contents.",
                "type": "BuiltInRole", "data_actions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"],
                "not_data_actions": []}"#,
        )
        .unwrap();
        let shown = super::role_table(&r);
        assert!(shown.contains("type:         BuiltInRole\n"), "{shown}");
        assert!(
            shown.contains("data actions:\n  Microsoft.KeyVault/vaults/secrets/getSecret/action\n"),
            "{shown}"
        );
        assert!(shown.ends_with("not data actions: none\n"), "{shown}");
        let list = super::roles_table(&List::new(vec![r]));
        assert_eq!(
            list,
            "NAME                    TYPE         ID\nKey Vault Secrets User  BuiltInRole  r1\n"
        );
        let a: Assignment = serde_json::from_str(
            r#"{"id": "a1", "role_id": "r1", "role_name": "Reader", "principal_client_id": "c1",
                "principal_object_id": "o1", "scope": "/", "created": 0}"#,
        )
        .unwrap();
        let list = super::assignments_table(&List::new(vec![a]));
        assert_eq!(list, "ID  ROLE    PRINCIPAL  SCOPE  CREATED\na1  Reader  c1         /      1970-01-01 00:00:00\n");
    }
}
