//! Textract's blocks as Intake's lines and pages: LINE blocks in reading order, each with the WORD
//! blocks its CHILD relationships name, on the page its `Page` field says (the synchronous API
//! reads one page and gives none).

use std::collections::HashMap;

use aws_sdk_textract::types::{Block, BlockType, RelationshipType};
use intake_domain::model::{
    BoundingBox, FIRST_PAGE, OcrLine, OcrPage, OcrResult, OcrResultError, OcrWord, PageNumber,
    PageSource,
};
use intake_domain::ports::{Failure, OcrError};

/// The engine's name in results.
pub(crate) const ENGINE: &str = "textract";

fn invalid(error: OcrResultError) -> OcrError {
    OcrError::from(Failure::other(error))
}

/// A block's page the way Textract numbers them (from 1); the first page for a block without one.
fn page_of(block: &Block) -> Result<PageNumber, OcrError> {
    match block.page() {
        None => Ok(FIRST_PAGE),
        Some(page) => u32::try_from(page)
            .ok()
            .and_then(PageNumber::new)
            .ok_or_else(|| {
                OcrError::from(Failure::other(format!(
                    "Textract gave a block on page {page}"
                )))
            }),
    }
}

fn bounding_box(block: &Block) -> Result<BoundingBox, OcrError> {
    let b = block.geometry().and_then(|g| g.bounding_box());
    BoundingBox::new(
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::left),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::top),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::width),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::height),
    )
    .map_err(|e| OcrError::from(Failure::other(e)))
}

/// The LINE blocks as lines, each on its page, page by page (Textract's order within a page).
fn lines(blocks: &[Block]) -> Result<Vec<OcrLine>, OcrError> {
    let by_id: HashMap<&str, &Block> = blocks.iter().filter_map(|b| Some((b.id()?, b))).collect();
    let mut lines = Vec::new();
    for line in blocks
        .iter()
        .filter(|b| b.block_type() == Some(&BlockType::Line))
    {
        let mut words = Vec::new();
        let children = line
            .relationships()
            .iter()
            .filter(|r| r.r#type() == Some(&RelationshipType::Child))
            .flat_map(|r| r.ids().iter());
        for id in children {
            if let Some(word) = by_id
                .get(id.as_str())
                .filter(|b| b.block_type() == Some(&BlockType::Word))
            {
                words.push(
                    OcrWord::new(
                        word.text().unwrap_or_default(),
                        word.confidence().unwrap_or(0.0),
                        bounding_box(word)?,
                    )
                    .map_err(invalid)?,
                );
            }
        }
        lines.push(
            OcrLine::new(
                line.text().unwrap_or_default(),
                line.confidence().unwrap_or(0.0),
                bounding_box(line)?,
                words,
            )
            .map_err(invalid)?
            .on_page(page_of(line)?),
        );
    }
    // Stable: each page keeps Textract's reading order.
    lines.sort_by_key(OcrLine::page);
    Ok(lines)
}

/// Maps a synchronous `DetectDocumentText` answer: one image, one page.
pub(crate) fn map_blocks(blocks: &[Block]) -> Result<OcrResult, OcrError> {
    OcrResult::new(ENGINE, lines(blocks)?, false).map_err(invalid)
}

/// Maps the blocks of an asynchronous text detection job over a document of `page_count` pages
/// (`DocumentMetadata.Pages`): every line on its page, and every page reported, those where
/// nothing was read included. Textract's geometry is relative to the page, so a page's size in
/// pixels is unknown. `truncated` when some pages could not be read (`PARTIAL_SUCCESS`).
pub(crate) fn map_document(
    blocks: &[Block],
    page_count: Option<i32>,
    truncated: bool,
) -> Result<OcrResult, OcrError> {
    let lines = lines(blocks)?;
    let mut last = page_count
        .and_then(|n| u32::try_from(n).ok())
        .and_then(PageNumber::new)
        .unwrap_or(FIRST_PAGE);
    for block in blocks
        .iter()
        .filter(|b| b.block_type() == Some(&BlockType::Page))
    {
        last = last.max(page_of(block)?);
    }
    if let Some(line) = lines.last() {
        last = last.max(line.page());
    }
    let pages = (1..=last.get())
        .filter_map(PageNumber::new)
        .map(|page| OcrPage::of_unknown_size(page, PageSource::Ocr))
        .collect();
    Ok(OcrResult::new(ENGINE, lines, truncated)
        .map_err(invalid)?
        .with_pages(pages))
}

#[cfg(test)]
mod tests {
    use aws_sdk_textract::types::{Geometry, Relationship};

    use super::*;

    fn block(kind: BlockType, id: &str, page: Option<i32>, children: &[&str]) -> Block {
        let mut b = Block::builder()
            .block_type(kind)
            .id(id)
            .text(id)
            .confidence(90.0)
            .geometry(
                Geometry::builder()
                    .bounding_box(
                        aws_sdk_textract::types::BoundingBox::builder()
                            .left(0.1)
                            .top(0.1)
                            .width(0.2)
                            .height(0.05)
                            .build(),
                    )
                    .build(),
            )
            .set_page(page);
        if !children.is_empty() {
            b = b.relationships(
                Relationship::builder()
                    .r#type(RelationshipType::Child)
                    .set_ids(Some(children.iter().map(|c| (*c).to_owned()).collect()))
                    .build(),
            );
        }
        b.build()
    }

    #[test]
    fn lines_are_put_on_their_pages_in_page_order() {
        // A line of page 2 listed before one of page 1 (Textract lists page by page, but a
        // line's page decides).
        let blocks = [
            block(BlockType::Line, "second", Some(2), &["w2"]),
            block(BlockType::Word, "w2", Some(2), &[]),
            block(BlockType::Line, "first", Some(1), &["w1"]),
            block(BlockType::Word, "w1", Some(1), &[]),
        ];
        let result = map_document(&blocks, Some(3), false).unwrap();
        let got: Vec<_> = result
            .lines()
            .iter()
            .map(|l| (l.text().to_owned(), l.page().get(), l.words().len()))
            .collect();
        assert_eq!(got, [("first".into(), 1, 1), ("second".into(), 2, 1)]);
        let pages: Vec<_> = result
            .pages()
            .iter()
            .map(|p| (p.page().get(), p.size()))
            .collect();
        assert_eq!(pages, [(1, None), (2, None), (3, None)]);
        assert_eq!(result.text(), "first\n\u{c}second");
    }

    #[test]
    fn a_block_on_page_zero_is_refused() {
        let blocks = [block(BlockType::Line, "x", Some(0), &[])];
        assert!(matches!(
            map_document(&blocks, Some(1), false),
            Err(OcrError::Failed(_))
        ));
    }
}
