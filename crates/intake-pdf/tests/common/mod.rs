//! What the reader's tests share: a reader whose workers are this package's worker binary, with
//! the libpdfium `scripts/ocr-models.sh` installed where the OCR models are.

use intake_pdf::{PdfOptions, PdfReader, library_path};

/// Workers run as `intake-pdf-worker`, loading the installed libpdfium (which must be there).
pub(crate) fn options() -> PdfOptions {
    let library = library_path(&intake_ocr_onnx::default_models_dir());
    assert!(
        library.is_file(),
        "libpdfium is not at {}: run scripts/ocr-models.sh",
        library.display()
    );
    PdfOptions::new(env!("CARGO_BIN_EXE_intake-pdf-worker"), vec![], library)
}

/// A reader with [`options`].
pub(crate) fn reader() -> PdfReader {
    PdfReader::new(options())
}
