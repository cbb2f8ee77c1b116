//! `intake keys ...`: the local server's API keys (admin key needed).

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::client::ClientError;
use crate::output::field;
use crate::views::{KeyList, KeyView, NewKey};
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
    let key: KeyView = api
        .post_json(
            "/keys",
            &NewKey {
                owner: &args.owner,
                name: &args.name,
                admin: args.admin,
            },
        )
        .await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!(
            "created key {} for owner {}{}; it is shown only now:",
            field(key.key_id.as_deref()),
            field(key.owner.as_deref()),
            if args.admin { " (admin)" } else { "" }
        );
        println!("{}", field(key.api_key.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn list_keys(args: KeyListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer: KeyList = api.get_json("/keys").await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .keys
        .iter()
        .map(|key| {
            vec![
                field(key.key_id.as_deref()).to_owned(),
                field(key.owner.as_deref()).to_owned(),
                field(key.name.as_deref()).to_owned(),
                if key.admin == Some(true) { "admin" } else { "" }.to_owned(),
                field(key.created_at.as_deref()).to_owned(),
                field(key.revoked_at.as_deref()).to_owned(),
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
    let key: KeyView = api.delete_json(&["keys", &args.key_id]).await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!("revoked key {}", field(key.key_id.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}
