//! `intake jobs ...`: the local server's dead jobs (admin key needed).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::client::ClientError;
use crate::output::field;
use crate::views::{DeadJobs, QueueCounts};
use crate::{ApiArgs, output};

#[derive(Debug, Subcommand)]
pub(crate) enum JobsCommand {
    /// List the jobs the queue gave up on, newest first, with the queue's counts.
    List(ListArgs),
    /// Take an image's dead job back into the queue: its processing runs again.
    Retry(IdArgs),
    /// Forget an image's dead job (the image stays as it is).
    Drop(IdArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// How many dead jobs to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The image id.
    id: String,
    #[command(flatten)]
    api: ApiArgs,
}

pub(crate) async fn run(command: JobsCommand) -> Result<ExitCode, ClientError> {
    match command {
        JobsCommand::List(args) => list(args).await,
        JobsCommand::Retry(args) => retry(args).await,
        JobsCommand::Drop(args) => drop_job(args).await,
    }
}

async fn list(args: ListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer: DeadJobs = api
        .get_segments(
            &["jobs"],
            &[
                ("state", "dead".to_owned()),
                ("limit", args.limit.to_string()),
            ],
        )
        .await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let stats = answer.stats.as_ref();
    let stat = |count: fn(&QueueCounts) -> Option<u64>| stats.and_then(count).unwrap_or(0);
    eprintln!(
        "{} waiting, {} running, {} dead",
        stat(|s| s.waiting),
        stat(|s| s.leased),
        stat(|s| s.dead),
    );
    let rows: Vec<Vec<String>> = answer
        .jobs
        .iter()
        .map(|job| {
            vec![
                field(job.image_id.as_deref()).to_owned(),
                job.attempts.unwrap_or(0).to_string(),
                field(job.buried_at.as_deref()).to_owned(),
                output::snippet(field(job.reason.as_deref()), 80),
            ]
        })
        .collect();
    output::table(&["IMAGE ID", "ATTEMPTS", "BURIED", "REASON"], &rows);
    Ok(ExitCode::SUCCESS)
}

async fn retry(args: IdArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    api.post_segments_empty(&["jobs", &args.id, "retry"])
        .await?;
    if args.api.json {
        output::json(&RetryReport {
            image_id: &args.id,
            retried: true,
        });
    } else {
        eprintln!("{} is back in the queue", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

async fn drop_job(args: IdArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    api.delete_segments(&["jobs", &args.id]).await?;
    if args.api.json {
        output::json(&DropReport {
            image_id: &args.id,
            dropped: true,
        });
    } else {
        eprintln!("dropped the dead job of {}", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

/// What `jobs retry --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryReport<'a> {
    image_id: &'a str,
    retried: bool,
}

/// What `jobs drop --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DropReport<'a> {
    image_id: &'a str,
    dropped: bool,
}
