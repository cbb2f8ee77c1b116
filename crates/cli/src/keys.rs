//! `intake keys ...`: the local server's API keys (admin key needed).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::ClientError;
use crate::{ApiArgs, output};

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key; it is printed once and only its hash is stored.
    Create(KeyCreateArgs),
    /// List keys, revoked ones included (kept for audit).
    List(KeyListArgs),
    /// Revoke a key: it stops working at once.
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyCreateArgs {
    /// Whose images the key sees and creates (several keys may share an owner).
    #[arg(long)]
    owner: String,
    /// A label: which machine or service holds the key.
    #[arg(long)]
    name: String,
    /// Allow the key to manage keys.
    #[arg(long)]
    admin: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct KeyListArgs {
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct KeyRevokeArgs {
    /// The key id (the 16 hex digits after `ik_`).
    key_id: String,
    #[command(flatten)]
    api: ApiArgs,
}

pub(crate) async fn run(command: KeysCommand) -> Result<ExitCode, ClientError> {
    match command {
        KeysCommand::Create(args) => create_key(args).await,
        KeysCommand::List(args) => list_keys(args).await,
        KeysCommand::Revoke(args) => revoke_key(args).await,
    }
}

async fn create_key(args: KeyCreateArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let key = api
        .post_json(
            "/keys",
            &json!({ "owner": args.owner, "name": args.name, "admin": args.admin }),
        )
        .await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!(
            "created key {} for owner {}{}; it is shown only now:",
            output::field(&key, "keyId"),
            output::field(&key, "owner"),
            if args.admin { " (admin)" } else { "" }
        );
        println!("{}", output::field(&key, "apiKey"));
    }
    Ok(ExitCode::SUCCESS)
}

async fn list_keys(args: KeyListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer = api.get_json("/keys").await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|key| {
            vec![
                output::field(key, "keyId").to_owned(),
                output::field(key, "owner").to_owned(),
                output::field(key, "name").to_owned(),
                if key["admin"].as_bool() == Some(true) {
                    "admin"
                } else {
                    ""
                }
                .to_owned(),
                output::field(key, "createdAt").to_owned(),
                output::field(key, "revokedAt").to_owned(),
            ]
        })
        .collect();
    output::table(
        &["KEY ID", "OWNER", "NAME", "ROLE", "CREATED", "REVOKED"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

async fn revoke_key(args: KeyRevokeArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let key = api.delete_json(&["keys", &args.key_id]).await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!("revoked key {}", output::field(&key, "keyId"));
    }
    Ok(ExitCode::SUCCESS)
}
