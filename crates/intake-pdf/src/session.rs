//! One worker process, seen from the reader: started with its request and document, its frames
//! read back as the port's pages and errors, stopped (killed) when the reader lets it go, takes too
//! long between two frames, or the kernel stops it at a limit.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use intake_domain::model::{ContentType, PageNumber};
use intake_domain::ports::{
    DocumentInfo, DocumentPage, DocumentReadError, Failure, PageContent, Preview, ReadRequest,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::PdfOptions;
use crate::protocol::{Frame, MAX_FRAME, Op, PageWords, Problem, Request, Rule};

/// What some operations need besides the document: the words to lay over pages
/// ([`Op::AddTextLayer`]), the page to draw and its size ([`Op::Picture`]).
#[derive(Default)]
pub(crate) struct Extra<'a> {
    pub(crate) words: &'a [PageWords],
    pub(crate) page: u32,
    pub(crate) side: u32,
}

/// A running worker.
pub(crate) struct Session {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// The longest wait for the next frame.
    patience: Duration,
    /// The most pages the document may have, as asked.
    max_pages: u32,
    done: bool,
}

/// A worker that broke the protocol.
pub(crate) fn protocol_error(what: &str) -> DocumentReadError {
    DocumentReadError::Failed(Failure::other(format!("the PDF worker {what}")))
}

fn stopped(problem: Problem, reason: String, count: u32, limit: u32) -> DocumentReadError {
    match problem {
        Problem::Encrypted => DocumentReadError::Encrypted,
        Problem::Corrupt => DocumentReadError::Corrupt { reason },
        Problem::TooManyPages => DocumentReadError::TooManyPages { count, limit },
        Problem::BeyondLimits => DocumentReadError::BeyondLimits { reason },
        Problem::Unavailable => DocumentReadError::Failed(Failure::unavailable(reason)),
    }
}

impl Session {
    /// Starts a worker on `bytes` (writing them on a task of their own, so that a worker answering
    /// early never blocks on a full pipe).
    pub(crate) fn start(
        options: &PdfOptions,
        op: Op,
        bytes: &Bytes,
        max_pages: u32,
        read: &ReadRequest,
        extra: &Extra<'_>,
    ) -> Result<Self, DocumentReadError> {
        let words = if extra.words.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(extra.words)
                .map_err(|e| DocumentReadError::Failed(Failure::other(e)))?
        };
        let request = Request {
            words_len: words.len() as u64,
            page: extra.page,
            side: extra.side,
            library: options.library.clone(),
            op,
            max_pages,
            memory_limit: options.memory_limit,
            cpu_seconds: read.time_limit.as_secs().max(1),
            dpi: read.dpi,
            max_page_pixels: read.max_page_pixels,
            rule: Rule::from(read.text_layer),
        };
        let mut line = serde_json::to_vec(&request)
            .map_err(|e| DocumentReadError::Failed(Failure::other(e)))?;
        line.push(b'\n');
        let mut child = Command::new(&options.program)
            .args(&options.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                DocumentReadError::Failed(Failure::unavailable(format!(
                    "cannot start the PDF worker {}: {e}",
                    options.program.display()
                )))
            })?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(protocol_error("has no standard input or output"));
        };
        let document = bytes.clone();
        tokio::spawn(async move {
            // A worker that stops reading (it found the document encrypted) closes the pipe: the
            // write fails, and its answer says why.
            if stdin.write_all(&line).await.is_ok() && stdin.write_all(&words).await.is_ok() {
                let _ = stdin.write_all(&document).await;
            }
        });
        Ok(Self {
            child,
            stdout: BufReader::new(stdout),
            patience: read.time_limit,
            max_pages,
            done: false,
        })
    }

    /// The first frame: the document's pages, or why it cannot be read.
    pub(crate) async fn info(&mut self) -> Result<DocumentInfo, DocumentReadError> {
        match self.frame().await? {
            Frame::Info { page_count } => Ok(DocumentInfo::new(page_count)),
            Frame::Stopped {
                problem,
                reason,
                count,
            } => Err(stopped(problem, reason, count, self.max_pages)),
            _ => Err(protocol_error("did not begin with the document's pages")),
        }
    }

    /// The next page; `None` after the last.
    pub(crate) async fn next(&mut self) -> Result<Option<DocumentPage>, DocumentReadError> {
        if self.done {
            return Ok(None);
        }
        let frame = self.frame().await?;
        let page = |number: u32, width_px, height_px, content| {
            let number =
                PageNumber::new(number).ok_or_else(|| protocol_error("sent a page numbered 0"))?;
            Ok(Some(DocumentPage::new(
                number, width_px, height_px, content,
            )))
        };
        match frame {
            Frame::Text {
                number,
                width_px,
                height_px,
                lines,
            } => page(number, width_px, height_px, PageContent::TextLayer(lines)),
            Frame::Picture {
                number,
                width_px,
                height_px,
                format,
                len,
            } => {
                let content_type = match format.as_str() {
                    "png" => ContentType::Png,
                    "jpeg" => ContentType::Jpeg,
                    _ => return Err(protocol_error("sent a picture in an unknown format")),
                };
                let bytes = self.body(len).await?;
                page(
                    number,
                    width_px,
                    height_px,
                    PageContent::Picture {
                        bytes,
                        content_type,
                    },
                )
            }
            Frame::End => {
                self.done = true;
                Ok(None)
            }
            Frame::Stopped {
                problem,
                reason,
                count,
            } => {
                self.done = true;
                Err(stopped(problem, reason, count, self.max_pages))
            }
            Frame::Info { .. } => Err(protocol_error("sent the document's pages twice")),
            Frame::Document { .. } => Err(protocol_error("sent a document where a page was due")),
        }
    }

    /// The one picture the worker drew ([`Op::Picture`]).
    pub(crate) async fn picture(&mut self) -> Result<Preview, DocumentReadError> {
        let picture = match self.frame().await? {
            Frame::Picture {
                width_px,
                height_px,
                format,
                len,
                ..
            } if format == "jpeg" => {
                let bytes = self.body(len).await?;
                Preview::new(bytes, ContentType::Jpeg, width_px, height_px)
            }
            Frame::Stopped {
                problem,
                reason,
                count,
            } => return Err(stopped(problem, reason, count, self.max_pages)),
            _ => return Err(protocol_error("sent something else than a picture")),
        };
        match self.frame().await? {
            Frame::End => Ok(picture),
            _ => Err(protocol_error("did not end after the picture")),
        }
    }

    /// The document the worker wrote ([`Op::AddTextLayer`]).
    pub(crate) async fn document(&mut self) -> Result<Bytes, DocumentReadError> {
        match self.frame().await? {
            Frame::Document { len } => {
                let bytes = self.body(len).await?;
                match self.frame().await? {
                    Frame::End => Ok(bytes),
                    _ => Err(protocol_error("did not end after the document")),
                }
            }
            Frame::Stopped {
                problem,
                reason,
                count,
            } => Err(stopped(problem, reason, count, self.max_pages)),
            _ => Err(protocol_error("sent something else than the document")),
        }
    }

    /// Reads one frame, within the session's patience.
    async fn frame(&mut self) -> Result<Frame, DocumentReadError> {
        let mut len = [0_u8; 4];
        self.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len);
        if len > MAX_FRAME {
            return Err(protocol_error("sent a frame beyond the limit"));
        }
        let mut json = vec![0_u8; len as usize];
        self.read_exact(&mut json).await?;
        serde_json::from_slice(&json).map_err(|_| protocol_error("sent a frame it cannot parse"))
    }

    async fn body(&mut self, len: u64) -> Result<Bytes, DocumentReadError> {
        let len = usize::try_from(len).map_err(|_| protocol_error("sent a picture too large"))?;
        let mut body = vec![0_u8; len];
        self.read_exact(&mut body).await?;
        Ok(Bytes::from(body))
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), DocumentReadError> {
        match tokio::time::timeout(self.patience, self.stdout.read_exact(buf)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(self.ended().await),
            Err(_) => {
                let _ = self.child.start_kill();
                Err(DocumentReadError::BeyondLimits {
                    reason: format!(
                        "the PDF worker was stopped after {} s without a page",
                        self.patience.as_secs()
                    ),
                })
            }
        }
    }

    /// Why a worker's output ended before its answer did: the kernel stopped it at a limit, or
    /// the document crashed it.
    async fn ended(&mut self) -> DocumentReadError {
        use std::os::unix::process::ExitStatusExt as _;
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let Ok(Ok(status)) = status else {
            let _ = self.child.start_kill();
            return protocol_error("closed its output and did not end");
        };
        match status.signal() {
            // SIGXCPU (24) at the CPU limit; SIGKILL (9) past its hard limit or at an OOM; SIGABRT
            // (6) when an allocation beyond the address-space limit fails (PDFium's and Rust's
            // allocation failures abort): a decompression bomb.
            Some(signal @ (6 | 9 | 24)) => DocumentReadError::BeyondLimits {
                reason: format!(
                    "the PDF worker was stopped at its time or memory limit (signal {signal})"
                ),
            },
            // SIGSEGV, SIGBUS, SIGILL or SIGTRAP (a PDFium check) on a document it cannot
            // survive.
            Some(signal) => DocumentReadError::Corrupt {
                reason: format!("the document stopped the PDF reader (signal {signal})"),
            },
            None => protocol_error(&format!("ended without an answer ({status})")),
        }
    }
}
