//! What a full-text search asks for, and how text is cut into the words it matches.
//!
//! One rule for every adapter: text is cut into words at every character that is neither a letter, a
//! digit nor a combining mark; words are compared lower-cased with their diacritics removed
//! (`Café` finds `cafe`). A search is a list of terms separated by spaces, all of which must match; a
//! term with punctuation inside (`4721.08`, `RM9.00`, `2026-11-25`) is the phrase of its words, so an
//! amount or a date is found as typed; the last term also matches as a prefix (`invo` finds
//! `invoice`), as a search box is typed.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// The longest search text accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 256;
/// The most terms one search may have.
pub const MAX_SEARCH_TERMS: usize = 16;

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchTextError {
    /// Nothing in it is a word.
    #[error("the search has no words to look for (letters or digits)")]
    NoWords,
    /// It is too long.
    #[error("the search is longer than {max} characters", max = MAX_SEARCH_CHARS)]
    TooLong,
    /// It has too many terms.
    #[error("the search has more than {max} terms", max = MAX_SEARCH_TERMS)]
    TooManyTerms,
}

/// A validated search: its terms, each the sequence of normalised words it must match in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SearchText {
    terms: Vec<Vec<String>>,
}

impl SearchText {
    /// Parses what a user typed.
    ///
    /// # Errors
    /// [`SearchTextError`] for a text with no word, too long, or with too many terms.
    pub fn parse(text: &str) -> Result<Self, SearchTextError> {
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(SearchTextError::TooLong);
        }
        let terms: Vec<Vec<String>> = text
            .split_whitespace()
            .map(|term| words(term).map(|w| w.normalized).collect::<Vec<_>>())
            .filter(|words: &Vec<String>| !words.is_empty())
            .collect();
        if terms.is_empty() {
            return Err(SearchTextError::NoWords);
        }
        if terms.len() > MAX_SEARCH_TERMS {
            return Err(SearchTextError::TooManyTerms);
        }
        Ok(Self { terms })
    }

    /// The terms: each a non-empty sequence of normalised words. The last term matches as a prefix
    /// (its last word may be the start of a longer word).
    pub fn terms(&self) -> &[Vec<String>] {
        &self.terms
    }

    /// A canonical form (terms joined by spaces, words within a term by `+`), to which cursors are
    /// bound.
    pub fn canonical(&self) -> String {
        self.terms
            .iter()
            .map(|t| t.join("+"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether every term matches somewhere in `text` (the rule adapters that search in memory use).
    pub fn matches(&self, text: &str) -> bool {
        let words: Vec<String> = words(text).map(|w| w.normalized).collect();
        (0..self.terms.len()).all(|t| !self.term_positions(t, &words).is_empty())
    }

    /// How often each term occurs in `text`, and how many words `text` has (for ranking).
    pub fn term_counts(&self, text: &str) -> (Vec<usize>, usize) {
        let words: Vec<String> = words(text).map(|w| w.normalized).collect();
        let counts = (0..self.terms.len())
            .map(|t| self.term_positions(t, &words).len())
            .collect();
        (counts, words.len())
    }

    /// The positions in `words` where term `t` starts.
    fn term_positions(&self, t: usize, words: &[String]) -> Vec<usize> {
        let Some(term) = self.terms.get(t) else {
            return Vec::new();
        };
        let prefix = t + 1 == self.terms.len();
        if term.len() > words.len() {
            return Vec::new();
        }
        (0..=words.len() - term.len())
            .filter(|&start| {
                term.iter().enumerate().all(|(i, want)| {
                    words.get(start + i).is_some_and(|have| {
                        if prefix && i + 1 == term.len() {
                            have.starts_with(want.as_str())
                        } else {
                            have == want
                        }
                    })
                })
            })
            .collect()
    }

    /// Where this search matched in an image's OCR text and file name: the (0-based) indexes of the
    /// OCR lines (the text's lines) with a match of any term, the pages they are on, and a short
    /// snippet with the matched words marked: the first matching line, or the file name when no line
    /// matched.
    pub fn highlight(&self, ocr_text: Option<&str>, file_name: &str) -> SearchMatch {
        // The text's lines with their pages: a page ends with a form feed, at the start of the
        // next page's first line.
        let mut page = 1_u32;
        let paged: Vec<(u32, &str)> = ocr_text
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let text = line.trim_start_matches('\u{c}');
                let feeds = line.len() - text.len();
                page = page.saturating_add(u32::try_from(feeds).unwrap_or(u32::MAX));
                (page, text)
            })
            .collect();
        let mut lines = Vec::new();
        let mut snippet = None;
        for (index, (_, line)) in paged.iter().enumerate() {
            let marked = self.mark(line);
            if marked.iter().any(|part| part.matched) {
                lines.push(u32::try_from(index).unwrap_or(u32::MAX));
                if snippet.is_none() {
                    snippet = Some(shorten(marked));
                }
            }
        }
        let snippet = snippet
            .or_else(|| {
                let marked = self.mark(file_name);
                marked.iter().any(|p| p.matched).then(|| shorten(marked))
            })
            .or_else(|| {
                // A phrase that runs from one line into the next: its words are marked one by one.
                let loose = Self {
                    terms: self
                        .terms
                        .iter()
                        .flatten()
                        .map(|w| vec![w.clone()])
                        .collect(),
                };
                let mut first = None;
                for (index, (_, line)) in paged.iter().enumerate() {
                    let marked = loose.mark(line);
                    if marked.iter().any(|part| part.matched) {
                        lines.push(u32::try_from(index).unwrap_or(u32::MAX));
                        first.get_or_insert(marked);
                    }
                }
                first.map(shorten)
            })
            .unwrap_or_else(|| shorten(self.mark(file_name)));
        let mut pages: Vec<u32> = lines
            .iter()
            .filter_map(|&index| paged.get(usize::try_from(index).ok()?).map(|(p, _)| *p))
            .collect();
        pages.dedup();
        SearchMatch {
            snippet,
            lines,
            pages,
        }
    }

    /// `text` cut into parts, every match of a term marked (a phrase from its first word to its
    /// last, the punctuation inside included).
    fn mark(&self, text: &str) -> Vec<SnippetPart> {
        let found: Vec<Word<'_>> = words(text).collect();
        let normalized: Vec<String> = found.iter().map(|w| w.normalized.clone()).collect();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (t, term) in self.terms.iter().enumerate() {
            for start in self.term_positions(t, &normalized) {
                let first = found.get(start);
                let last = found.get(start + term.len() - 1);
                if let (Some(first), Some(last)) = (first, last) {
                    spans.push((first.start, last.start + last.text.len()));
                }
            }
        }
        spans.sort_unstable();
        let mut parts: Vec<SnippetPart> = Vec::new();
        let mut at = 0;
        for (start, end) in spans {
            let start = start.max(at);
            if end <= start {
                continue;
            }
            push_part(&mut parts, text.get(at..start).unwrap_or_default(), false);
            push_part(&mut parts, text.get(start..end).unwrap_or_default(), true);
            at = end;
        }
        push_part(&mut parts, text.get(at..).unwrap_or_default(), false);
        parts
    }
}

/// Appends `text` to `parts`, joining it to the last part when both are marked alike.
fn push_part(parts: &mut Vec<SnippetPart>, text: &str, matched: bool) {
    if text.is_empty() {
        return;
    }
    match parts.last_mut() {
        Some(last) if last.matched == matched => last.text.push_str(text),
        _ => parts.push(SnippetPart {
            text: text.to_owned(),
            matched,
        }),
    }
}

/// The characters of context kept before the first match of a long line.
const SNIPPET_CONTEXT: usize = 60;
/// The longest snippet, in characters (without its ellipses).
const SNIPPET_CHARS: usize = 160;

/// Cuts a long marked line to a window of [`SNIPPET_CHARS`] that starts a little before its first
/// match, with `…` where it was cut.
fn shorten(parts: Vec<SnippetPart>) -> Vec<SnippetPart> {
    let total: usize = parts.iter().map(|p| p.text.chars().count()).sum();
    if total <= SNIPPET_CHARS {
        return parts;
    }
    let mut first = 0;
    let mut at = 0;
    for part in &parts {
        if part.matched {
            first = at;
            break;
        }
        at += part.text.chars().count();
    }
    let start = first.saturating_sub(SNIPPET_CONTEXT);
    let end = (start + SNIPPET_CHARS).min(total);
    let start = start.min(end.saturating_sub(SNIPPET_CHARS));
    let mut out = Vec::new();
    if start > 0 {
        push_part(&mut out, "…", false);
    }
    let mut at = 0;
    for part in parts {
        let len = part.text.chars().count();
        let (from, to) = (start.max(at), end.min(at + len));
        if from < to {
            let text: String = part.text.chars().skip(from - at).take(to - from).collect();
            push_part(&mut out, &text, part.matched);
        }
        at += len;
    }
    if end < total {
        push_part(&mut out, "…", false);
    }
    out
}

/// Where a search matched in one image.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct SearchMatch {
    /// A short text around the first match, in parts; the matched words are the parts marked
    /// `matched` (parts rather than markup, so no client has to escape anything).
    pub snippet: Vec<SnippetPart>,
    /// The indexes of the OCR lines (`ocrLines`, the lines of `ocrText`) in which a term matched.
    pub lines: Vec<u32>,
    /// The pages (from 1) of those lines, in order.
    pub pages: Vec<u32>,
}

/// A piece of a snippet.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SnippetPart {
    /// The text, as it was read.
    pub text: String,
    /// Whether it is a matched word (or words).
    pub matched: bool,
}

/// One word of a text: where it is, and its normalised form.
struct Word<'a> {
    start: usize,
    text: &'a str,
    normalized: String,
}

/// The words of `text`: runs of letters, digits and combining marks.
fn words(text: &str) -> impl Iterator<Item = Word<'_>> {
    let is_word = |c: char| c.is_alphanumeric() || is_combining_mark(c);
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.by_ref().find(|&(_, c)| is_word(c))?;
        let mut end = text.len();
        while let Some(&(i, c)) = rest.peek() {
            if !is_word(c) {
                end = i;
                break;
            }
            rest.next();
        }
        let word = text.get(start..end).unwrap_or_default();
        Some(Word {
            start,
            text: word,
            normalized: normalize(word),
        })
    })
    .filter(|w| !w.normalized.is_empty())
}

/// The words of `text` as an index keeps them: normalised, separated by single spaces. An adapter
/// whose engine cuts text into words itself indexes this, and searches for the terms' words, so that
/// its words are exactly the domain's.
pub fn index_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word.normalized);
    }
    out
}

/// Lower case without diacritics (compatibility decomposition, combining marks dropped).
pub fn normalize(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.nfkd()
        .filter(|&c| !is_combining_mark(c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<Vec<String>> {
        SearchText::parse(text).map(|s| s.terms).unwrap_or_default()
    }

    #[test]
    fn terms_are_words_lower_cased_without_diacritics() {
        assert_eq!(terms("Café  RÉSUMÉ"), vec![vec!["cafe"], vec!["resume"]]);
        assert_eq!(terms("4721.08"), vec![vec!["4721", "08"]]);
        assert_eq!(
            terms("RM9.00 total:"),
            vec![vec!["rm9", "00"], vec!["total"]]
        );
    }

    #[test]
    fn a_search_without_words_or_too_long_is_refused() {
        assert_eq!(SearchText::parse(" -- ; "), Err(SearchTextError::NoWords));
        assert_eq!(SearchText::parse(""), Err(SearchTextError::NoWords));
        assert_eq!(
            SearchText::parse(&"a".repeat(MAX_SEARCH_CHARS + 1)),
            Err(SearchTextError::TooLong)
        );
        let many = vec!["w"; MAX_SEARCH_TERMS + 1].join(" ");
        assert_eq!(SearchText::parse(&many), Err(SearchTextError::TooManyTerms));
    }

    #[test]
    fn amounts_and_dates_match_as_typed_and_the_last_word_as_a_prefix() {
        let text = "INVOICE No. 2026-11-25\nTotal due RM9.00\nPaid 4721.08 by cheque";
        assert!(SearchText::parse("4721.08").is_ok_and(|s| s.matches(text)));
        assert!(SearchText::parse("rm9.00").is_ok_and(|s| s.matches(text)));
        assert!(SearchText::parse("2026-11-25").is_ok_and(|s| s.matches(text)));
        assert!(SearchText::parse("invo").is_ok_and(|s| s.matches(text)));
        assert!(SearchText::parse("invo total").is_ok_and(|s| !s.matches(text)));
        assert!(SearchText::parse("4721.09").is_ok_and(|s| !s.matches(text)));
        assert!(SearchText::parse("08.4721").is_ok_and(|s| !s.matches(text)));
        assert!(SearchText::parse("chèque paid").is_ok_and(|s| s.matches(text)));
    }

    #[test]
    fn the_highlight_names_the_pages_of_its_lines_and_keeps_form_feeds_out() {
        let search = SearchText::parse("total").unwrap();
        let found = search.highlight(Some("Invoice\nTotal 1\n\u{c}Notes\n\u{c}\u{c}Total 2"), "x");
        assert_eq!(found.lines, [1, 3]);
        assert_eq!(found.pages, [1, 4]);
        let other = search.highlight(Some("a\n\u{c}Total here"), "x");
        assert_eq!(
            (other.lines.as_slice(), other.pages.as_slice()),
            (&[1][..], &[2][..])
        );
        assert!(other.snippet.iter().all(|p| !p.text.contains('\u{c}')));
    }

    #[test]
    fn the_highlight_marks_the_words_and_names_the_lines() {
        let search = SearchText::parse("total rm9.00").expect("parses");
        let found = search.highlight(Some("Receipt\nTotal due RM9.00\nThanks"), "r.png");
        assert_eq!(found.lines, vec![1]);
        let marked: Vec<(&str, bool)> = found
            .snippet
            .iter()
            .map(|p| (p.text.as_str(), p.matched))
            .collect();
        assert_eq!(
            marked,
            vec![("Total", true), (" due ", false), ("RM9.00", true)]
        );
    }

    #[test]
    fn a_match_only_in_the_file_name_snippets_the_file_name() {
        let search = SearchText::parse("acme").expect("parses");
        let found = search.highlight(Some("nothing here"), "ACME-receipt.jpg");
        assert!(found.lines.is_empty());
        assert_eq!(found.snippet.first().map(|p| p.matched), Some(true));
    }

    #[test]
    fn a_long_line_is_cut_around_its_first_match() {
        let line = format!("{} needle {}", "left ".repeat(40), "right ".repeat(40));
        let found = SearchText::parse("needle")
            .expect("parses")
            .highlight(Some(&line), "x");
        let text: String = found.snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert!(text.chars().count() <= SNIPPET_CHARS + 2, "{text}");
        assert!(text.contains("needle"), "{text}");
    }

    #[test]
    fn many_matches_in_a_long_line_keep_the_snippet_short_and_apart() {
        let line = "total 1 ".repeat(100);
        let found = SearchText::parse("total")
            .expect("parses")
            .highlight(Some(&line), "x");
        let text: String = found.snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(text.chars().count() <= SNIPPET_CHARS + 2, "{text}");
        assert!(!text.contains("totaltotal"), "{text}");
    }

    #[test]
    fn a_phrase_across_lines_marks_its_words_on_each_line() {
        let found = SearchText::parse("due 2026-12-01")
            .expect("parses")
            .highlight(Some("Invoice\nAmount due\n2026-12-01 net"), "scan.png");
        assert_eq!(found.lines, vec![1, 2]);
        assert!(found.snippet.iter().any(|p| p.matched && p.text == "due"));
    }

    #[test]
    fn index_words_are_the_normalised_words() {
        assert_eq!(
            index_words("Café — ﬁnance, RM9.00\nÅ"),
            "cafe finance rm9 00 a"
        );
    }

    #[test]
    fn counts_rank_by_frequency() {
        let search = SearchText::parse("paid").expect("parses");
        assert_eq!(search.term_counts("paid paid unpaid PAID"), (vec![3], 4));
    }
}
