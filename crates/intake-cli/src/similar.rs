//! Near-duplicates: `intake similar` lists the images that look like the same document as one of
//! yours (re-scanned, re-photographed), and `intake show` prints what was flagged when an image was
//! processed. A flag never rejects anything: you decide.

use std::process::ExitCode;

use clap::Args;

use crate::client::ClientError;
use crate::output::table;
use crate::views::{NearDuplicate, SimilarView};
use crate::{ApiArgs, output};

#[derive(Debug, Args)]
pub(crate) struct SimilarArgs {
    /// The image id.
    id: String,
    #[command(flatten)]
    api: ApiArgs,
}

/// One row per near-duplicate: the image, the basis, the similarity, the tokens both pages have.
pub(crate) fn rows(found: &[NearDuplicate]) -> Vec<Vec<String>> {
    found
        .iter()
        .map(|d| {
            vec![
                d.image_id.clone().unwrap_or_default(),
                d.basis.clone().unwrap_or_default(),
                d.similarity.map(|s| format!("{s:.2}")).unwrap_or_default(),
                d.matched_tokens.clone().unwrap_or_default().join(" "),
            ]
        })
        .collect()
}

/// The table's header.
pub(crate) const HEADER: [&str; 4] = ["IMAGE", "BASIS", "SIMILARITY", "MATCHED TOKENS"];

pub(crate) async fn similar(args: SimilarArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer: SimilarView = api
        .get_segments(&["images", &args.id, "similar"], &[])
        .await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let found = answer.similar.unwrap_or_default();
    if found.is_empty() {
        eprintln!("no image looks like the same document as {}", args.id);
    } else {
        table(&HEADER, &rows(&found));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_says_which_why_and_how_alike() {
        let found: Vec<NearDuplicate> = serde_json::from_value(serde_json::json!([{
            "imageId": "019b76da-a800-7000-8000-000000000002",
            "basis": "image+text",
            "similarity": 0.953_125,
            "matchedTokens": ["18.60", "2026-11-25"],
            "page": 1,
            "otherPage": 1,
            "imageDistance": 3
        }]))
        .unwrap();
        assert_eq!(
            rows(&found),
            vec![vec![
                "019b76da-a800-7000-8000-000000000002".to_owned(),
                "image+text".to_owned(),
                "0.95".to_owned(),
                "18.60 2026-11-25".to_owned(),
            ]]
        );
        // Fields this CLI does not read are kept for --json.
        assert!(found[0].unread.contains_key("imageDistance"));
    }
}
