#!/usr/bin/env python3
"""Static int8 (QDQ, per-channel weights) quantisation of the PP-OCRv6 small recogniser: the
measurement tool behind bench/RESULTS.md section 7's int8 candidate for the balanced tier (tiny
detection + this recogniser). Not part of the install: the engine reads the float models.

  int8.py calibrate --models DIR --ranges FILE [--lines N]
      Renders N text lines of its own (DejaVu fonts; words, numbers, dates, amounts, codes; scan
      blur and grain), runs the float model on them and writes the activation ranges (percentile
      calibration, rounded to four significant digits) to FILE (bench/ocr/int8-ranges.json).

  int8.py quantise --models DIR --ranges FILE --out FILE
      Applies the ranges to the float model without running it, so the output is the same file each
      time: opset 17, ONNX Runtime's extended fusions (Gelu, layer norm; the head's MatMul left
      unfused), then Conv and the weight MatMuls to int8 with per-channel weights and uint8 activations.

Run with a venv holding onnx==1.23.2, onnxruntime==1.32.0, numpy==2.4.6 and pillow==13.0.0.
"""

import argparse
import json
import math
import random
import sys
import tempfile
from pathlib import Path

HEIGHT = 48
# The calibration inputs share one width (the percentile calibrator stacks them): lines are scaled to
# height 48 and padded or cut to this.
CALIBRATION_WIDTH = 480
# Attention MatMuls multiply two activations; they stay float (quantising them costs accuracy).
FLOAT_NODES = ["MatMul.1", "MatMul.2", "MatMul.7", "MatMul.8"]
FONTS = "/usr/share/fonts/truetype/dejavu"
WORDS = (
    "name date total amount address phone invoice number account balance due paid customer "
    "order item quantity price tax subtotal signature company street city state zip code fax "
    "email from to subject reference description page of the and for with report tobacco "
    "research department approved received sent copy brand program budget cost sales"
).split()


def log(msg):
    print(f"int8: {msg}", file=sys.stderr, flush=True)


def random_token(rng):
    kind = rng.random()
    if kind < 0.55:
        word = rng.choice(WORDS)
        style = rng.random()
        return word.upper() if style < 0.25 else word.capitalize() if style < 0.6 else word
    if kind < 0.7:
        return str(rng.randint(0, 99999))
    if kind < 0.78:
        return f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1950, 2030)}"
    if kind < 0.86:
        return f"${rng.randint(0, 9999)}.{rng.randint(0, 99):02d}"
    if kind < 0.92:
        return f"({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if kind < 0.96:
        return f"{rng.choice(WORDS)}@{rng.choice(WORDS)}.com"
    return rng.choice([":", "-", "#", "%", "&", "No.", "Re:", "/", "*"])


def render_line(rng, fonts):
    """One text line as a crop like detection's: dark text on light paper with a margin."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    text = " ".join(random_token(rng) for _ in range(rng.randint(1, 8)))
    size = rng.randint(12, 44)
    font = ImageFont.truetype(str(rng.choice(fonts)), size)
    left, top, right, bottom = font.getbbox(text)
    margin = int(size * rng.uniform(0.15, 0.5))
    w, h = right - left + 2 * margin, bottom - top + 2 * margin
    paper = rng.randint(200, 255)
    img = Image.new("L", (w, h), paper)
    ink = rng.randint(0, 90)
    ImageDraw.Draw(img).text((margin - left, margin - top), text, font=font, fill=ink)
    if rng.random() < 0.3:
        img = img.rotate(rng.uniform(-2, 2), resample=Image.BILINEAR, fillcolor=paper)
    if rng.random() < 0.5:
        # A scan's softness: down and up again.
        f = rng.uniform(0.4, 0.9)
        small = img.resize((max(1, int(w * f)), max(1, int(h * f))), Image.BILINEAR)
        img = small.resize((w, h), Image.BILINEAR)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    # Paper grain.
    noise = Image.effect_noise((w, h), rng.uniform(2, 25))
    img = Image.blend(img, noise, rng.uniform(0.0, 0.25))
    return img.convert("RGB")


def model_input(img):
    """A line as the Rust engine feeds it: height 48, ratio kept, BGR, (v/255 - 0.5)/0.5, zero padded."""
    import numpy as np
    from PIL import Image

    w = max(1, min(CALIBRATION_WIDTH, math.ceil(HEIGHT * img.width / img.height)))
    arr = np.asarray(img.resize((w, HEIGHT), Image.BILINEAR), dtype=np.float32)[:, :, ::-1]
    out = np.zeros((1, 3, HEIGHT, CALIBRATION_WIDTH), dtype=np.float32)
    out[0, :, :, :w] = ((arr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return out


def prepared(models, work):
    """The float model at opset 17 with ONNX Runtime's extended (machine-independent) fusions,
    the head's MatMul left unfused so that it can be quantised."""
    import onnx
    import onnxruntime as ort
    from onnx import version_converter

    src = Path(models) / "ppocr-v6-small" / "rec.onnx"
    op17 = Path(work) / "rec-op17.onnx"
    onnx.save(version_converter.convert_version(onnx.load(src), 17), op17)
    fused = Path(work) / "rec-fused.onnx"
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(fused)
    ort.InferenceSession(
        str(op17),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=["MatmulTransposeFusion"],
    )
    return fused


def quantise_with(model, out, ranges, reader=None):
    """quantize_static with the ranges file as its calibration cache: read when it exists, written
    from `reader` when it does not."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(
        str(model),
        str(out),
        reader,
        calibration_cache_path=str(ranges),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv", "MatMul"],
        nodes_to_exclude=FLOAT_NODES,
        calibrate_method=CalibrationMethod.Percentile,
    )


def calibrate(args):
    import onnx

    rng = random.Random(20261207)
    fonts = sorted(p for p in Path(FONTS).glob("DejaVu*.ttf") if "Math" not in p.name)
    if not fonts:
        sys.exit(f"int8: no DejaVu fonts in {FONTS} (scripts/system-deps.sh)")
    with tempfile.TemporaryDirectory() as work:
        model = prepared(args.models, work)
        name = onnx.load(model).graph.input[0].name
        batch = [model_input(render_line(rng, fonts)) for _ in range(args.lines)]
        log(f"calibrating on {len(batch)} rendered lines")

        class Reader:
            def __init__(self):
                self.items = iter(batch)

            def get_next(self):
                x = next(self.items, None)
                return None if x is None else {name: x}

        cache = Path(work) / "ranges.json"
        quantise_with(model, Path(work) / "calibrated.onnx", cache, Reader())
        raw = json.loads(cache.read_text())
    # Only the ranges are kept (the calibrator's histograms are not needed to quantise).
    for tensor in raw["data"].values():
        tensor.pop("hist", None)
        tensor.pop("bins", None)
    # Rounded, so that the file reads the same wherever it was made.
    Path(args.ranges).write_text(json.dumps(rounded(raw), indent=1, sort_keys=True) + "\n")
    log(f"wrote {len(raw['data'])} ranges to {args.ranges}")


def rounded(value, digits=4):
    """Every float in a JSON value rounded to `digits` significant digits."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        return round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return value


def quantise(args):
    with tempfile.TemporaryDirectory() as work:
        quantise_with(prepared(args.models, work), args.out, args.ranges)
    log(f"wrote {args.out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    cal = sub.add_parser("calibrate")
    cal.add_argument("--models", required=True)
    cal.add_argument("--ranges", required=True)
    cal.add_argument("--lines", type=int, default=200)
    q = sub.add_parser("quantise")
    q.add_argument("--models", required=True)
    q.add_argument("--ranges", required=True)
    q.add_argument("--out", required=True)
    args = ap.parse_args()
    {"calibrate": calibrate, "quantise": quantise}[args.command](args)


if __name__ == "__main__":
    main()
