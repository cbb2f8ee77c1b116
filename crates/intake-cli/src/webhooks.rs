//! `intake webhooks ...`: an owner's webhook subscriptions on the local server.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::client::ClientError;
use crate::output::field;
use crate::views::{DeliveryList, Empty, NewWebhook, WebhookList, WebhookView};
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
    /// image.duplicate, image.near_duplicate, image.deleted, image.purged); all when left out.
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
    let body = NewWebhook {
        url: &args.url,
        events: &args.events,
        description: args.description.as_deref(),
    };
    let created: WebhookView = api.post_json("/webhooks", &body).await?;
    if args.api.json {
        output::json(&created);
    } else {
        eprintln!(
            "subscribed {} to {} as {}; its signing secret is shown only now:",
            field(created.url.as_deref()),
            events_of(&created),
            field(created.webhook_id.as_deref()),
        );
        println!("{}", field(created.secret.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// A subscription's event types, comma-separated.
fn events_of(subscription: &WebhookView) -> String {
    subscription.events.as_deref().unwrap_or_default().join(",")
}

async fn list(args: ListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer: WebhookList = api.get_json("/webhooks").await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .webhooks
        .iter()
        .map(|hook| {
            vec![
                field(hook.webhook_id.as_deref()).to_owned(),
                field(hook.url.as_deref()).to_owned(),
                events_of(hook),
                if hook.enabled == Some(true) {
                    "enabled".to_owned()
                } else {
                    format!("disabled: {}", field(hook.disabled_reason.as_deref()))
                },
                field(hook.created_at.as_deref()).to_owned(),
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
        output::json(&RemoveReport {
            webhook_id: &args.id,
            removed: true,
        });
    } else {
        eprintln!("removed {}", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

async fn enable(args: IdArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let enabled: WebhookView = api
        .post_segments(&["webhooks", &args.id, "enable"], &Empty {})
        .await?;
    if args.api.json {
        output::json(&enabled);
    } else {
        eprintln!("enabled {}", field(enabled.webhook_id.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn deliveries(args: DeliveriesArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer: DeliveryList = api
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
        .deliveries
        .iter()
        .map(|d| {
            let status = d
                .last_status
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            vec![
                field(d.event_id.as_deref()).to_owned(),
                field(d.event_type.as_deref()).to_owned(),
                field(d.state.as_deref()).to_owned(),
                d.attempts.unwrap_or(0).to_string(),
                status,
                field(d.last_error.as_deref()).to_owned(),
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

/// What `webhooks remove --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemoveReport<'a> {
    webhook_id: &'a str,
    removed: bool,
}
