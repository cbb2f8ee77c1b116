//! `intake webhooks ...`: an owner's webhook subscriptions on the local server.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::ClientError;
use crate::{ApiArgs, output};

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// Subscribe a URL to your images' events; prints the signing secret once.
    Add(AddArgs),
    /// List your subscriptions.
    List(ListArgs),
    /// Remove a subscription; its pending deliveries are dropped.
    Remove(IdArgs),
    /// Enable a subscription again after it was disabled by repeated failures.
    Enable(IdArgs),
    /// Show a subscription's recent deliveries, newest first.
    Deliveries(DeliveriesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Where to POST events (http or https; the server's allow-list decides which hosts).
    url: String,
    /// Which events, comma-separated (image.uploaded, image.processed, image.rejected, image.failed,
    /// image.duplicate, image.deleted, image.purged); all when left out.
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// A label for people.
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The subscription id (`wh_...`).
    id: String,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DeliveriesArgs {
    /// The subscription id (`wh_...`).
    id: String,
    /// How many deliveries to show.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[command(flatten)]
    api: ApiArgs,
}

pub(crate) async fn run(command: WebhooksCommand) -> Result<ExitCode, ClientError> {
    match command {
        WebhooksCommand::Add(args) => add(args).await,
        WebhooksCommand::List(args) => list(args).await,
        WebhooksCommand::Remove(args) => remove(args).await,
        WebhooksCommand::Enable(args) => enable(args).await,
        WebhooksCommand::Deliveries(args) => deliveries(args).await,
    }
}

async fn add(args: AddArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let body = json!({ "url": args.url, "events": args.events, "description": args.description });
    let created: Value = api.post_json("/webhooks", &body).await?;
    if args.api.json {
        output::json(&created);
    } else {
        eprintln!(
            "subscribed {} to {} as {}; its signing secret is shown only now:",
            output::field(&created, "url"),
            events_of(&created),
            output::field(&created, "webhookId"),
        );
        println!("{}", output::field(&created, "secret"));
    }
    Ok(ExitCode::SUCCESS)
}

fn events_of(subscription: &Value) -> String {
    subscription
        .get("events")
        .and_then(Value::as_array)
        .map(|events| {
            events
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

async fn list(args: ListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer = api.get_json("/webhooks").await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .get("webhooks")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|hook| {
            vec![
                output::field(hook, "webhookId").to_owned(),
                output::field(hook, "url").to_owned(),
                events_of(hook),
                if hook.get("enabled").and_then(Value::as_bool) == Some(true) {
                    "enabled".to_owned()
                } else {
                    format!("disabled: {}", output::field(hook, "disabledReason"))
                },
                output::field(hook, "createdAt").to_owned(),
            ]
        })
        .collect();
    output::table(&["WEBHOOK ID", "URL", "EVENTS", "STATE", "CREATED"], &rows);
    Ok(ExitCode::SUCCESS)
}

async fn remove(args: IdArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    api.delete_segments(&["webhooks", &args.id]).await?;
    if args.api.json {
        output::json(&json!({ "webhookId": args.id, "removed": true }));
    } else {
        eprintln!("removed {}", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

async fn enable(args: IdArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let enabled = api
        .post_segments(&["webhooks", &args.id, "enable"], &json!({}))
        .await?;
    if args.api.json {
        output::json(&enabled);
    } else {
        eprintln!("enabled {}", output::field(&enabled, "webhookId"));
    }
    Ok(ExitCode::SUCCESS)
}

async fn deliveries(args: DeliveriesArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer = api
        .get_segments(
            &["webhooks", &args.id, "deliveries"],
            &[("limit", args.limit.to_string())],
        )
        .await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .get("deliveries")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let status = d
                .get("lastStatus")
                .and_then(Value::as_u64)
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            vec![
                output::field(d, "eventId").to_owned(),
                output::field(d, "eventType").to_owned(),
                output::field(d, "state").to_owned(),
                d.get("attempts")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string(),
                status,
                output::field(d, "lastError").to_owned(),
            ]
        })
        .collect();
    output::table(
        &[
            "EVENT ID",
            "TYPE",
            "STATE",
            "ATTEMPTS",
            "STATUS",
            "LAST ERROR",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
