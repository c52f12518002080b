"""Train the plate reader (``models/plate_reader.onnx``) on this machine's CPU.

    pip install -e '.[train]'          # torch, for training only; reading needs onnxruntime alone
    python -m alpr_lib.recognition.train --crops ../shared/datasets/openalpr/seg_and_ocr \\
        --out alpr_lib/recognition/models

Data: the US plate crops of the openalpr ``seg_and_ocr`` set (file, state, plate) — one in five is held out to
measure the model — and rendered plates (``synthplates.py``). In each crop the plate's text line is located
with the general text detector (the box whose reading is closest to the truth), so the reader learns the very
framing the pipeline gives it at reading time (:func:`reader.plate_crop` around a detector box). Other text
on the plate (state names, slogans) is kept as examples that read as nothing. Every example is damaged as a
street camera would (``synthplates.damage``) and its box jittered. The model: five convolution blocks, a
bidirectional LSTM, CTC over the 36 characters; exported to ONNX with its settings and measured accuracy
beside it (``plate_reader.json``).

The shipped model was then trained further on labelled photos (``--start`` the model above, ``--photos`` the
openalpr ``endtoend`` folders): their plates framed as the pipeline frames them. ``--leave-out K`` keeps one
fold of the photos out (every ``--folds``-th photo from number K: a half by default), so that ``workbench
evaluate DIR --fold K --folds N --reader MODEL`` measures the reader on photos it has not seen (how
``ACCURACY.md``'s cross-validated figures were made).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import difflib
import hashlib
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

from .reader import ALPHABET, HEIGHT, WIDTH, plate_crop, prepare
from .synthplates import damage, render_plate

HOLDOUT_EVERY = 5


def add_fold_options(parser: argparse.ArgumentParser) -> None:
    """``--leave-out K --folds N``, as both training scripts take them: fold K is every N-th photo of a folder
    in file-name order from number K (:func:`evaluate.labelled_images` splits them the same way)."""
    parser.add_argument(
        "--leave-out",
        type=int,
        metavar="K",
        help="leave this fold of the photos out of training (0 to --folds - 1), to measure the model on it "
        "end to end",
    )
    parser.add_argument("--folds", type=int, default=2, help="how many folds the photos are split into")


def parse_with_folds(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed arguments, with ``--leave-out`` and ``--folds`` checked against each other."""
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be 2 or more")
    if args.leave_out is not None and not 0 <= args.leave_out < args.folds:
        parser.error(f"--leave-out must be a fold from 0 to {args.folds - 1}")
    return args


def _clean(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch in ALPHABET)


def locate_lines(crops_dir: Path, cache: Path) -> list[dict]:
    """Each crop's true plate, the box of its text line and the boxes of other text on it."""
    if cache.exists():
        return json.loads(cache.read_text())
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    ocr = RapidOCR(
        text_score=0.3,
        use_cls=False,
        det_limit_type="max",
        det_limit_side_len=640,
        det_intra_op_num_threads=2,
        rec_intra_op_num_threads=2,
    )
    with (crops_dir / "groundtruth.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    out = []
    for i, (name, state, plate) in enumerate(sorted(rows)):
        image = cv2.imread(str(crops_dir / "usimages" / name))
        if image is None:
            continue
        found, _ = ocr(image, use_cls=False)
        boxes = []
        for pts, text, _score in found or []:
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            boxes.append(((min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)), _clean(text)))
        best, ratio = _closest_line(boxes, plate)
        if best is None or ratio < 0.5:
            h, w = image.shape[:2]
            best = (0.06 * w, 0.22 * h, 0.88 * w, 0.56 * h)  # where a US plate's characters usually are
        others = [
            box
            for box, text in boxes
            if text
            and difflib.SequenceMatcher(None, text, plate).ratio() < 0.3
            and (box[1] + box[3] < best[1] + 0.2 * best[3] or box[1] > best[1] + 0.8 * best[3])
        ]
        out.append(
            {
                "file": name,
                "state": state,
                "plate": plate,
                "box": [float(v) for v in best],
                "located": ratio >= 0.5,
                "others": [[float(v) for v in b] for b in others],
                "holdout": i % HOLDOUT_EVERY == 0,
            }
        )
    cache.write_text(json.dumps(out))
    return out


def _closest_line(
    boxes: list[tuple[tuple[float, float, float, float], str]], plate: str
) -> tuple[tuple[float, float, float, float] | None, float]:
    """The text box (or two neighbours on one line joined: a plate split by a dash or an emblem) whose reading
    is closest to the true plate, and how close (0-1)."""
    joined = list(boxes)
    for a in boxes:
        for b in boxes:
            (ax, ay, aw, ah), (bx, by, bw, bh) = a[0], b[0]
            if a is not b and ax < bx and abs((ay + ah / 2) - (by + bh / 2)) < 0.4 * max(ah, bh):
                x0, y0 = min(ax, bx), min(ay, by)
                box = (x0, y0, max(ax + aw, bx + bw) - x0, max(ay + ah, by + bh) - y0)
                joined.append((box, a[1] + b[1]))
    best, ratio = None, 0.0
    for box, text in joined:
        r = difflib.SequenceMatcher(None, text, plate).ratio()
        if r > ratio or (r == ratio and best is not None and box[3] > best[3]):
            best, ratio = box, r
    return best, ratio


def locate_photo_plates(folders: list[Path], cache: Path) -> list[dict]:
    """Each labelled photo's plate (folders in the openalpr benchmark format): its true box, and the text box
    the pipeline's detector gives for it (the framing the reader is shown at reading time), or the true box
    where the detector gives none close to the truth. Each keeps its number in its folder's file-name order
    (``index``), which splits the photos into folds, so one fold can be left out and measured end to end
    (``--leave-out``)."""
    if cache.exists():
        return json.loads(cache.read_text())
    import cv2

    from .evaluate import iou, labelled_images
    from .ocr import RapidOCREngine

    engine = RapidOCREngine()
    out = []
    for folder in folders:
        for k, (path, truth, plate) in enumerate(labelled_images(folder)):
            image = cv2.imread(str(path))
            if image is None:
                continue
            found = [(b.bbox, _clean(b.text)) for b in engine.detect_and_read(image)]
            tx, ty, tw, th = truth
            inside = [
                (box, text)
                for box, text in found
                if tx <= box[0] + box[2] / 2 <= tx + tw and ty <= box[1] + box[3] / 2 <= ty + th
            ]
            best, ratio = _closest_line(inside, plate)
            out.append(
                {
                    "file": str(path),
                    "plate": plate,
                    "truth": list(truth),
                    "box": [float(v) for v in (best if best is not None and ratio >= 0.5 else truth)],
                    "located": ratio >= 0.5,
                    "others": [list(box) for box, text in found if text and iou(box, truth) == 0],
                    "index": k,
                }
            )
    cache.write_text(json.dumps(out))
    return out


def _photo_examples(args: tuple[list[dict], int, int]) -> tuple[np.ndarray, list[str]]:
    """Damaged copies of the photos' plates, framed as the pipeline frames them (its detector's box with
    :data:`pipeline.PHOTO_MARGINS`, jittered), now and then the whole plate; other text in the photos reads
    as nothing."""
    import cv2

    from .pipeline import PHOTO_MARGINS

    items, per_item, seed = args
    rng = np.random.default_rng(seed)
    xs, ys = [], []

    def region(image: np.ndarray, truth: list[float]) -> tuple[np.ndarray, float, float]:
        x, y, w, h = truth
        x0, y0 = max(int(x - w), 0), max(int(y - 1.5 * h), 0)
        return image[y0 : int(y + h + 1.5 * h), x0 : int(x + 2 * w)], x0, y0

    def example(area: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
        if rng.random() < 0.6:
            area, box = damage(area, box, rng)
        margins = tuple(m * rng.uniform(0.0, 2.0) for m in PHOTO_MARGINS)
        return plate_crop(area, _jitter(box, rng), margins)

    for item in items:
        image = cv2.imread(item["file"])
        if image is None:
            continue
        area, x0, y0 = region(image, item["truth"])
        line = (item["box"][0] - x0, item["box"][1] - y0, item["box"][2], item["box"][3])
        whole = (item["truth"][0] - x0, item["truth"][1] - y0, item["truth"][2], item["truth"][3])
        for _ in range(per_item):
            crop = example(area, whole if rng.random() < 0.25 else line)
            if crop.size:
                xs.append(_as_uint8(crop))
                ys.append(item["plate"])
        for other in item["others"][:3]:
            around, ox, oy = region(image, other)
            for _ in range(3):
                crop = example(around, (other[0] - ox, other[1] - oy, other[2], other[3]))
                if crop.size:
                    xs.append(_as_uint8(crop))
                    ys.append("")
    return np.stack(xs) if xs else np.zeros((0, HEIGHT, WIDTH), np.uint8), ys


def _jitter(box: tuple[float, float, float, float], rng: np.random.Generator) -> tuple[float, ...]:
    x, y, w, h = box
    dx0, dx1 = rng.normal(0, 0.04, 2) * w
    dy0, dy1 = rng.normal(0, 0.1, 2) * h
    return (x + dx0, y + dy0, max(w - dx0 + dx1, 4.0), max(h - dy0 + dy1, 4.0))


def _pad(
    image: np.ndarray, box: tuple[float, ...], part: float = 0.3
) -> tuple[np.ndarray, tuple[float, ...]]:
    """Surround a tight plate crop with a border (a car around it), moving the box with it."""
    import cv2

    h, w = image.shape[:2]
    py, px = int(h * part), int(w * part)
    padded = cv2.copyMakeBorder(image, py, py, px, px, cv2.BORDER_REPLICATE)
    return padded, (box[0] + px, box[1] + py, box[2], box[3])


def _real_examples(args: tuple[str, list[dict], int, int]) -> tuple[np.ndarray, list[str]]:
    import cv2

    crops_dir, items, per_item, seed = args
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for item in items:
        image = cv2.imread(str(Path(crops_dir) / "usimages" / item["file"]))
        if image is None:
            continue
        padded, box = _pad(image, tuple(item["box"]))
        h, w = image.shape[:2]
        _, whole = _pad(image, (0.0, 0.0, float(w), float(h)))
        for _ in range(per_item):
            framing = whole if rng.random() < 0.15 else box  # now and then the whole plate, as crops are read
            img, moved = damage(padded, framing, rng)
            crop = plate_crop(img, _jitter(moved, rng))
            if crop.size:
                xs.append(_as_uint8(crop))
                ys.append(item["plate"])
        for other in item["others"][:2]:  # state names, slogans: read as nothing
            img, moved = damage(*_pad(image, tuple(other)), rng)
            crop = plate_crop(img, _jitter(moved, rng))
            if crop.size:
                xs.append(_as_uint8(crop))
                ys.append("")
    return np.stack(xs) if xs else np.zeros((0, HEIGHT, WIDTH), np.uint8), ys


def _synthetic_examples(args: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    count, seed = args
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(count):
        plate = render_plate(rng)
        img, box = damage(plate.image, plate.box, rng)
        crop = plate_crop(img, _jitter(box, rng))
        if crop.size:
            xs.append(_as_uint8(crop))
            ys.append(plate.text)
    return np.stack(xs), ys


def _as_uint8(crop: np.ndarray) -> np.ndarray:
    return ((prepare(crop)[0] + 1.0) * 127.5).round().astype(np.uint8)


#: The reader's convolution widths and its LSTM's hidden size at ``--width 1`` (the shipped reader).
WIDTHS, HIDDEN = (32, 64, 128, 128, 192, 256), 128


def _sizes(width: float) -> tuple[tuple[int, ...], int]:
    """The convolution widths and LSTM hidden size of a network ``width`` times as wide as the shipped one."""
    return tuple(round(c * width) for c in WIDTHS), round(HIDDEN * width)


def _build_model(  # noqa: ANN202 - a torch module
    *, folded: bool = False, widths: tuple[int, ...] = WIDTHS, hidden: int = HIDDEN
):
    """The reader's network. ``folded``: batch normalisation folded into the convolutions, as the ONNX export
    holds it (what a fine-tuning run starts from, see :func:`_from_onnx`); ``widths``, ``hidden``: its
    convolutions' output channels and its LSTM's hidden size (:func:`_sizes`)."""
    import torch
    from torch import nn

    c1, c2, c3, c4, c5, c6 = widths

    def norm(cout: int) -> nn.Module:
        return nn.Identity() if folded else nn.BatchNorm2d(cout)

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=folded), norm(cout), nn.ReLU(inplace=True)]

    class CRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                *block(1, c1),
                nn.MaxPool2d(2),  # 16 x 64
                *block(c1, c2),
                nn.MaxPool2d(2),  # 8 x 32
                *block(c2, c3),
                *block(c3, c4),
                nn.MaxPool2d((2, 1)),  # 4 x 32
                *block(c4, c5),
                nn.MaxPool2d((2, 1)),  # 2 x 32
                nn.Conv2d(c5, c6, (2, 1), bias=folded),
                norm(c6),
                nn.ReLU(inplace=True),  # 1 x 32
                nn.Dropout(0.2),
            )
            self.rnn = nn.LSTM(c6, hidden, bidirectional=True, batch_first=True)
            self.head = nn.Linear(2 * hidden, len(ALPHABET) + 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, H, W) -> (N, T, classes)
            f = self.features(x).squeeze(2).permute(0, 2, 1)
            out, _ = self.rnn(f)
            return self.head(out)

    return CRNN()


def _from_onnx(path: Path):  # noqa: ANN202 - a torch module
    """The network of a shipped ONNX reader, to train further. The export folded batch normalisation into
    the convolutions and wrote the LSTM in ONNX's layout (gates i, o, f, c; torch's are i, f, g, o)."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # the exporter shares equal weights (an untrained network's) through Identity
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    conv_nodes = [n for n in graph.node if n.op_type == "Conv"]
    lstm = next(n for n in graph.node if n.op_type == "LSTM")
    matmul = next(n for n in graph.node if n.op_type == "MatMul")
    if len(conv_nodes) != len(WIDTHS):
        raise ValueError(f"{path} is not a plate reader of this shape")
    widths = tuple(weights[n.input[1]].shape[0] for n in conv_nodes)  # each layer's size, as exported
    model = _build_model(folded=True, widths=widths, hidden=weights[lstm.input[2]].shape[-1])
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        for conv, node in zip(convs, conv_nodes, strict=True):
            conv.weight.copy_(torch.from_numpy(weights[node.input[1]].copy()))
            conv.bias.copy_(torch.from_numpy(weights[node.input[2]].copy()))
        w, r, b = (weights[name] for name in lstm.input[1:4])
        hidden = r.shape[-1]

        def gates(m: np.ndarray) -> torch.Tensor:  # ONNX i, o, f, c -> torch i, f, g, o
            i, o, f, c = np.split(m, 4, axis=0)
            return torch.from_numpy(np.concatenate([i, f, c, o], axis=0).copy())

        for d, suffix in enumerate(("", "_reverse")):
            getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(gates(w[d]))
            getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(gates(r[d]))
            getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(gates(b[d][: 4 * hidden]))
            getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(gates(b[d][4 * hidden :]))
        model.head.weight.copy_(torch.from_numpy(weights[matmul.input[1]].T.copy()))
        model.head.bias.copy_(torch.from_numpy(weights["head.bias"].copy()))
    return model


def _greedy(logits) -> list[str]:  # noqa: ANN001
    best = logits.argmax(-1).cpu().numpy()
    out = []
    for row in best:
        prev, text = 0, []
        for k in row:
            if k and k != prev:
                text.append(ALPHABET[k - 1])
            prev = k
        out.append("".join(text))
    return out


def _holdout_crops(crops_dir: Path, items: list[dict], whole: bool) -> tuple[np.ndarray, list[str]]:
    import cv2

    xs, ys = [], []
    for item in items:
        image = cv2.imread(str(crops_dir / "usimages" / item["file"]))
        crop = image if whole else plate_crop(image, tuple(item["box"]))
        xs.append(_as_uint8(crop))
        ys.append(item["plate"])
    return np.stack(xs), ys


def _export(model, out: Path, meta: dict) -> None:  # noqa: ANN001 - a torch module
    """Write the reader as ONNX (batch size free) and its settings and scores beside it."""
    import torch

    axes = {"image": {0: "n"}, "logits": {0: "n"}}
    export_onnx(model, out / "plate_reader.onnx", torch.zeros(1, 1, HEIGHT, WIDTH), axes, meta)


def export_onnx(model, path: Path, example, axes: dict, meta: dict) -> None:  # noqa: ANN001 - torch
    """Write a model as ONNX (input ``image``, output ``logits``, ``axes`` free) and ``meta`` as JSON
    beside it."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    model.train()
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--crops", type=Path, required=True, help="the seg_and_ocr folder (groundtruth.csv, usimages/)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "models")
    parser.add_argument("--work", type=Path, default=Path(".train"), help="where examples are cached")
    parser.add_argument("--synthetic", type=int, default=36000)
    parser.add_argument("--per-crop", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--photos",
        type=Path,
        nargs="*",
        default=[],
        help="folders of labelled photos (openalpr benchmark format) whose plates join the training",
    )
    add_fold_options(parser)
    parser.add_argument("--per-photo", type=int, default=40, help="damaged copies of each photo's plate")
    parser.add_argument(
        "--start", type=Path, help="train further from this ONNX reader (a shipped model) instead of anew"
    )
    parser.add_argument(
        "--keep", type=int, default=20000, help="with --start: how many of the crop and rendered examples"
    )
    parser.add_argument("--lr", type=float, help="the highest learning rate (2e-3 anew, 5e-4 with --start)")
    parser.add_argument(
        "--width",
        type=float,
        default=1.0,
        help="a network this many times wider than the shipped reader's (not with --start)",
    )
    args = parse_with_folds(parser, argv)
    if args.start and args.width != 1.0:
        parser.error("--width is for a network trained anew: with --start it is as wide as its start")

    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    items = locate_lines(args.crops, args.work / "lines.json")
    train_items = [i for i in items if not i["holdout"]]
    held = [i for i in items if i["holdout"]]
    with (args.work / "held_out.csv").open("w", newline="") as fh:  # for `workbench evaluate --crops`
        csv.writer(fh).writerows((i["file"], i["state"], i["plate"]) for i in held)
    print(
        f"crops: {len(items)} ({sum(i['located'] for i in items)} text lines located), "
        f"{len(train_items)} for training, {len(held)} held out",
        flush=True,
    )

    cache = args.work / f"examples-{args.seed}-{args.synthetic}-{args.per_crop}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        x_all, y_all = data["x"], list(data["y"])
    else:
        jobs_real = [
            (str(args.crops), train_items[k::16], args.per_crop, args.seed * 1000 + k) for k in range(16)
        ]
        jobs_syn = [(args.synthetic // 16, args.seed * 1000 + 100 + k) for k in range(16)]
        with multiprocessing.Pool(args.threads) as pool:
            parts = pool.map(_real_examples, jobs_real) + pool.map(_synthetic_examples, jobs_syn)
        x_all = np.concatenate([p[0] for p in parts])
        y_all = [y for p in parts for y in p[1]]
        np.savez(cache, x=x_all, y=np.array(y_all))
    if args.start:  # a sample of the base examples keeps what the model knows while it learns the photos
        keep = np.random.default_rng(args.seed).permutation(len(y_all))[: args.keep]
        x_all, y_all = x_all[keep], [y_all[i] for i in keep]
    if args.photos:
        # The cache is named by the folders: other --photos locate their plates anew.
        key = hashlib.sha256("\n".join(str(f.resolve()) for f in args.photos).encode()).hexdigest()[:12]
        photos = locate_photo_plates(args.photos, args.work / f"photo_lines2-{key}.json")
        used = [i for i in photos if i["index"] % args.folds != args.leave_out]
        jobs = [(used[k::8], args.per_photo, args.seed * 1000 + 200 + k) for k in range(8)]
        with multiprocessing.Pool(args.threads) as pool:
            parts = pool.map(_photo_examples, jobs)
        x_all = np.concatenate([x_all, *[p[0] for p in parts]])
        y_all = y_all + [y for p in parts for y in p[1]]
        print(
            f"photos: {len(used)} of {len(photos)} in training "
            f"({sum(i['located'] for i in used)} text lines located)",
            flush=True,
        )
    print(
        f"examples: {len(y_all)} ({sum(1 for y in y_all if not y)} read as nothing) "
        f"after {time.time() - started:.0f} s",
        flush=True,
    )

    index = {ch: i + 1 for i, ch in enumerate(ALPHABET)}
    targets = [torch.tensor([index[c] for c in y], dtype=torch.long) for y in y_all]
    x_tensor = torch.from_numpy(x_all)
    hx_tight, hy = _holdout_crops(args.crops, held, whole=False)
    hx_whole, _ = _holdout_crops(args.crops, held, whole=True)

    def to_input(batch_u8: torch.Tensor) -> torch.Tensor:
        return (batch_u8.float() / 127.5 - 1.0).unsqueeze(1)

    def holdout_accuracy(model: nn.Module, xs: np.ndarray) -> float:
        model.eval()
        with torch.no_grad():
            got = _greedy(model(to_input(torch.from_numpy(xs))))
        model.train()
        return sum(g == t for g, t in zip(got, hy, strict=True)) / len(hy)

    if args.start:
        model = _from_onnx(args.start)
    else:
        widths, hidden = _sizes(args.width)
        model = _build_model(widths=widths, hidden=hidden)
    lr = args.lr or (5e-4 if args.start else 2e-3)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = args.epochs * (len(y_all) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    generator = torch.Generator().manual_seed(args.seed)
    best_acc, best_scores = -1.0, {}
    about = {
        "alphabet": ALPHABET,
        "height": HEIGHT,
        "width": WIDTH,
        "trained": dt.date.today().isoformat(),
        "examples": len(y_all),
        "synthetic": args.synthetic,
        "real_crops": len(train_items),
        "held_out_crops": len(held),
        "epochs": args.epochs,
        "network": {
            "conv_widths": [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)],
            "lstm_hidden": model.rnn.hidden_size,
        },
        "seed": args.seed,
        "started_from": str(args.start) if args.start else None,
        "photos": [str(f) for f in args.photos],
        "photos_left_out": args.leave_out,
        "folds": args.folds,
        "command": "python -m alpr_lib.recognition.train " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    for epoch in range(args.epochs):
        order = torch.randperm(len(y_all), generator=generator)
        total = 0.0
        for b in range(len(y_all) // args.batch):
            ids = order[b * args.batch : (b + 1) * args.batch]
            xb = to_input(x_tensor[ids])
            tb = [targets[i] for i in ids.tolist()]
            logits = model(xb)  # (N, T, C)
            log_probs = logits.log_softmax(-1).permute(1, 0, 2)  # (T, N, C)
            loss = ctc(
                log_probs,
                torch.cat(tb) if any(len(t) for t in tb) else torch.zeros(0, dtype=torch.long),
                torch.full((len(tb),), log_probs.shape[0], dtype=torch.long),
                torch.tensor([len(t) for t in tb], dtype=torch.long),
            )
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        tight, whole = holdout_accuracy(model, hx_tight), holdout_accuracy(model, hx_whole)
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {total / max(b + 1, 1):.3f}, held-out crops exact "
            f"{tight:.1%} (text line) / {whole:.1%} (whole plate), {time.time() - started:.0f} s",
            flush=True,
        )
        # The best epoch so far ships (exported now, so a cut run leaves it); a run that trains further from
        # a model ships its last epoch: the crops no longer measure all it learns.
        if args.start or tight + whole > best_acc:
            best_acc = tight + whole
            best_scores = {
                "held_out_text_line_exact": round(tight, 4),
                "held_out_whole_plate_exact": round(whole, 4),
                "epoch": epoch + 1,
            }
            _export(model, args.out, {**about, **best_scores})

    onnx_path = args.out / "plate_reader.onnx"
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB): {json.dumps(best_scores)}")


if __name__ == "__main__":
    main()
