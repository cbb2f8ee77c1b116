#!/usr/bin/env python3
"""Reference OCR pipeline for the OCR benchmark: RapidOCR on the same PP-OCR model files as
Intake's Rust engine, so the two can be compared page by page.

Usage:
    reference.py --models DIR --tier tiny|small --out OUTDIR [--threads 1] [--json] [--no-cls] IMAGE...

DIR is the folder scripts/ocr-models.sh fills: ppocr-v6-<tier>/{det.onnx,rec.onnx,dict.txt} and
ppocr-cls/cls.onnx. Run it with the python that scripts/ocr-reference.sh prints.

RapidOCR keeps its default settings (180-degree line classifier on, text_score 0.5, detection
resized to a 736 px minimum side, ...) apart from the model paths and the thread count. Nothing is
downloaded: a missing file is an error, and any download RapidOCR attempts is refused.

The first image is run once untimed as a warm-up. Then for each image the RapidOCR call (decoding
the file included) is timed and OUTDIR/<stem>.txt gets the recognised lines in RapidOCR's order,
joined by '\\n'; --json adds OUTDIR/<stem>.json with {"lines": [{"text", "score", "box"}], "seconds"}.
The last stdout line is: pages=N seconds_total=.. seconds_per_page=.. peak_rss_mb=..
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


def log(msg):
    print(f"reference: {msg}", file=sys.stderr, flush=True)


def fail(msg):
    sys.exit(f"reference: {msg}")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", required=True, type=Path, help="model folder (scripts/ocr-models.sh)")
    ap.add_argument("--tier", required=True, choices=["tiny", "small"])
    ap.add_argument("--out", required=True, type=Path, help="output folder")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")
    ap.add_argument("--json", action="store_true", help="also write <stem>.json per image")
    ap.add_argument(
        "--no-cls",
        action="store_true",
        help="skip the 180-degree line classifier (Global.use_cls false), as Intake's default does",
    )
    ap.add_argument("images", nargs="+", type=Path)
    return ap.parse_args()


def build_engine(models, tier, threads, use_cls=True):
    """One RapidOCR on the tier's det/rec/dict and the shared line classifier, checked to have
    opened exactly those files."""
    paths = {
        "det": models / f"ppocr-v6-{tier}" / "det.onnx",
        "rec": models / f"ppocr-v6-{tier}" / "rec.onnx",
        "dict": models / f"ppocr-v6-{tier}" / "dict.txt",
        "cls": models / "ppocr-cls" / "cls.onnx",
    }
    for name, path in paths.items():
        if not path.is_file():
            fail(f"{name} model file missing: {path} (run scripts/ocr-models.sh)")
    paths = {name: path.resolve() for name, path in paths.items()}

    import cv2
    from rapidocr import ModelType, OCRVersion, RapidOCR
    from rapidocr.utils.download_file import DownloadFile

    # RapidOCR falls back to downloading its own models or dictionary when a path is unusable;
    # make that an error instead of a silent substitution.
    def refuse_download(_cls, params):
        raise RuntimeError(f"RapidOCR tried to download {params.file_url}; check the model paths")

    DownloadFile.run = classmethod(refuse_download)

    # OpenCV's own thread pool (resize, warps, contours) follows --threads too, so a one-thread
    # run really uses one core.
    cv2.setNumThreads(threads)

    model_type = ModelType(tier)
    engine = RapidOCR(
        params={
            "Global.log_level": "warning",
            "Global.use_cls": use_cls,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.ocr_version": OCRVersion.PPOCRV6,
            "Det.model_type": model_type,
            "Det.model_path": str(paths["det"]),
            "Rec.ocr_version": OCRVersion.PPOCRV6,
            "Rec.model_type": model_type,
            "Rec.model_path": str(paths["rec"]),
            "Rec.rec_keys_path": str(paths["dict"]),
            # The PP-OCR mobile v2.0 classifier; RapidOCR picks its 3x48x192 input from this version.
            "Cls.ocr_version": OCRVersion.PPOCRV4,
            "Cls.model_path": str(paths["cls"]),
        }
    )

    # RapidOCR loads models lazily; load them now so the checks below see the real sessions.
    stages = {
        "det": engine._load_det_model(),
        "cls": engine._load_cls_model(),
        "rec": engine._load_rec_model(),
    }
    for name, stage in stages.items():
        session = stage.session.session
        opened = Path(session._model_path).resolve()
        if opened != paths[name]:
            fail(f"RapidOCR opened {opened} for {name}, expected {paths[name]}")
        opts = session.get_session_options()
        if opts.intra_op_num_threads != threads:
            # RapidOCR silently keeps ONNX Runtime's default when the count exceeds the cores.
            fail(f"{name} session has {opts.intra_op_num_threads} threads, asked for {threads}")
        log(f"{name}: {opened} threads={opts.intra_op_num_threads}")

    # The rec models carry no embedded character list, so the decoder must hold dict.txt exactly:
    # CTC blank, the dictionary's lines, then the space RapidOCR appends.
    rec = stages["rec"]
    if rec.session.have_key():
        fail(f"{paths['rec']} embeds its own character list; RapidOCR would ignore dict.txt")
    keys = paths["dict"].read_text(encoding="utf-8").split("\n")
    keys = [key.rstrip("\r") for key in (keys[:-1] if keys[-1] == "" else keys)]
    if rec.postprocess_op.character != ["blank", *keys, " "]:
        fail(f"RapidOCR's decoder characters differ from {paths['dict']}")
    classes = rec.session.session.get_outputs()[0].shape[-1]
    if classes != len(keys) + 2:
        fail(f"{paths['rec']} has {classes} classes, {paths['dict']} gives {len(keys) + 2}")
    log(f"rec dictionary: {paths['dict']} ({len(keys)} entries)")
    log(f"cls input shape: {stages['cls'].cls_image_shape}")
    return engine


def peak_rss_kib():
    """This process's peak resident set in KiB: VmHWM, which belongs to this program's own memory.
    getrusage's ru_maxrss is not used: Linux carries it over exec, so a child started by a large
    process reports its parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def page_result(result):
    """(texts, scores, boxes) of one RapidOCR result; empty when nothing was recognised."""
    txts = getattr(result, "txts", None)
    if not txts:
        return [], [], []
    return list(txts), [float(s) for s in result.scores], result.boxes.tolist()


def main():
    args = parse_args()
    if args.threads < 1 or args.threads > (os.cpu_count() or 1):
        fail(f"--threads must be between 1 and {os.cpu_count()}")
    for img in args.images:
        if not img.is_file():
            fail(f"image not found: {img}")
    stems = [img.stem for img in args.images]
    if len(set(stems)) != len(stems):
        fail("two images share a file stem; their outputs would overwrite each other")

    engine = build_engine(args.models, args.tier, args.threads, use_cls=not args.no_cls)
    args.out.mkdir(parents=True, exist_ok=True)
    engine(str(args.images[0]))  # warm-up, not timed

    total = 0.0
    for img in args.images:
        start = time.perf_counter()
        result = engine(str(img))
        seconds = time.perf_counter() - start
        total += seconds

        texts, scores, boxes = page_result(result)
        (args.out / f"{img.stem}.txt").write_text("\n".join(texts), encoding="utf-8")
        if args.json:
            lines = [
                {"text": t, "score": s, "box": b} for t, s, b in zip(texts, scores, boxes)
            ]
            with open(args.out / f"{img.stem}.json", "w", encoding="utf-8") as fh:
                json.dump({"lines": lines, "seconds": seconds}, fh, ensure_ascii=False)

    pages = len(args.images)
    peak_mb = peak_rss_kib() / 1024
    print(
        f"pages={pages} seconds_total={total:.3f} seconds_per_page={total / pages:.3f} "
        f"peak_rss_mb={peak_mb:.1f}"
    )


if __name__ == "__main__":
    main()
