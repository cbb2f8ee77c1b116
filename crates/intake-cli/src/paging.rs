//! A listing's paging options (`--limit`, `--cursor`, `--all`), shared by the commands that list
//! images, and the loop that follows cursors.

use clap::Args;

use crate::client::{Api, ClientError};
use crate::views::ImageView;

/// How much of a listing to fetch.
#[derive(Debug, Args)]
pub(crate) struct Paging {
    /// Page size.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: u32,
    /// Continue from a cursor printed by a previous page.
    #[arg(long)]
    pub(crate) cursor: Option<String>,
    /// Follow cursors: every page of the listing.
    #[arg(long)]
    pub(crate) all: bool,
}

impl Paging {
    /// The images `query` lists (with this page size), from the cursor given, every page with
    /// `--all`, and the cursor of the page after.
    pub(crate) async fn images(
        &self,
        api: &Api,
        query: &[(&'static str, String)],
    ) -> Result<(Vec<ImageView>, Option<String>), ClientError> {
        let mut cursor = self.cursor.clone();
        let mut images = Vec::new();
        loop {
            let mut page_query = vec![("limit", self.limit.to_string())];
            page_query.extend_from_slice(query);
            if let Some(cursor) = &cursor {
                page_query.push(("cursor", cursor.clone()));
            }
            let page = api.list(&page_query).await?;
            images.extend(page.images);
            match page.next_cursor {
                Some(next) if self.all => cursor = Some(next),
                next => return Ok((images, next)),
            }
        }
    }
}
