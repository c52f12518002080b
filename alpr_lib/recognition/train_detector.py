"""Train the plate detector (``models/plate_detector.onnx``) on this machine's CPU.

    pip install -e '.[train]'          # torch, for training only; detecting needs onnxruntime alone
    python -m alpr_lib.recognition.train_detector --photos ../shared/datasets/openalpr/endtoend/us \\
        ../shared/datasets/openalpr/endtoend/eu --out alpr_lib/recognition/models

Data: labelled photos in the openalpr benchmark format (each photo's plate box). Each step shows the network
a square piece of a photo at a random scale around :data:`detect.SIDE` (most pieces hold the plate, the rest
are background: cars, signs, lettering), its colours, blur and noise changed as cameras change them; the
target marks the plate's cells. ``--leave-out K`` keeps one fold of the photos out (every ``--folds``-th
photo from number K: a half by default; the fold ``workbench evaluate --fold K --folds N`` reads), to
measure the detector on photos it has not seen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .detect import MULTIPLE, SIDE, STRIDE, prepare_image, to_input
from .train import add_fold_options, export_onnx, parse_with_folds

PIECE = 320  # the side of the square pieces the network trains on, in pixels


def _load(
    folders: list[Path], folds: int, keep: Callable[[int], bool]
) -> list[tuple[np.ndarray, tuple[float, ...]]]:
    """Each photo ``keep`` accepts the fold of (its number in file-name order, modulo ``folds``), resized to a
    longer side of 1.5 × SIDE (room to scale), with its plate box there."""
    import cv2

    from .evaluate import labelled_images

    out = []
    for folder in folders:
        for k, (path, box, _plate) in enumerate(labelled_images(folder)):
            if not keep(k % folds):
                continue
            image = cv2.imread(str(path))
            if image is None:
                continue
            scale = 1.5 * SIDE / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            out.append((image, tuple(v * scale for v in box)))
    return out


def _piece(
    image: np.ndarray, box: tuple[float, ...], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One training piece (3, PIECE, PIECE) and its target (PIECE / STRIDE square): the photo scaled as the
    detector would see it (give or take 40%), cut around the plate or elsewhere, damaged."""
    import cv2

    scale = (SIDE / (1.5 * SIDE)) * rng.uniform(0.6, 1.4)
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y, w, h = (v * scale for v in box)
    ih, iw = image.shape[:2]
    if ih < PIECE or iw < PIECE:
        image = cv2.copyMakeBorder(
            image, 0, max(PIECE - ih, 0), 0, max(PIECE - iw, 0), cv2.BORDER_CONSTANT, value=(0, 0, 0)
        )
        ih, iw = image.shape[:2]
    if rng.random() < 0.75:  # around the plate
        x0 = int(np.clip(rng.uniform(*sorted((x + w - PIECE + 8, x - 8))), 0, iw - PIECE))
        y0 = int(np.clip(rng.uniform(*sorted((y + h - PIECE + 8, y - 8))), 0, ih - PIECE))
    else:
        x0, y0 = int(rng.integers(0, iw - PIECE + 1)), int(rng.integers(0, ih - PIECE + 1))
    piece = image[y0 : y0 + PIECE, x0 : x0 + PIECE].copy()
    if rng.random() < 0.5:  # colour, contrast and brightness
        piece = cv2.convertScaleAbs(piece, alpha=rng.uniform(0.6, 1.4), beta=rng.uniform(-40, 40))
    if rng.random() < 0.3:
        piece = cv2.cvtColor(cv2.cvtColor(piece, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.3:
        piece = cv2.GaussianBlur(piece, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.3:
        noise = rng.normal(0, rng.uniform(3, 12), piece.shape)
        piece = np.clip(piece + noise, 0, 255).astype(np.uint8)
    flip = rng.random() < 0.5
    if flip:
        piece = piece[:, ::-1]
    target = np.zeros((PIECE // STRIDE, PIECE // STRIDE), np.float32)
    gx0, gy0 = (x - x0) / STRIDE, (y - y0) / STRIDE
    gx1, gy1 = (x + w - x0) / STRIDE, (y + h - y0) / STRIDE
    c0, r0 = max(int(round(gx0)), 0), max(int(round(gy0)), 0)
    c1, r1 = min(int(round(gx1)), target.shape[1]), min(int(round(gy1)), target.shape[0])
    if c1 > c0 and r1 > r0:
        target[r0:r1, c0:c1] = 1.0
    if flip:
        target = target[:, ::-1]
    return to_input(piece), np.ascontiguousarray(target)


def _build_model():  # noqa: ANN202 - a torch module
    """Three stride-2 steps to 1/4 (fine detail), two more to 1/16 with dilated convolutions (a plate's
    surroundings: a bumper, a car), upsampled and joined; one output per 4 × 4 pixel cell."""
    import torch
    from torch import nn
    from torch.nn import functional

    def block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]

    class Detector(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fine = nn.Sequential(*block(3, 16, 2), *block(16, 32, 2), *block(32, 32))  # 1/4
            self.coarse = nn.Sequential(
                *block(32, 64, 2),
                *block(64, 64),
                *block(64, 96, 2),
                *block(96, 96, 1, 2),
                *block(96, 96, 1, 4),
            )  # 1/16
            self.head = nn.Sequential(*block(32 + 96, 48), nn.Conv2d(48, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, 1, H/4, W/4) logits
            fine = self.fine(x)
            coarse = functional.interpolate(
                self.coarse(fine), scale_factor=4.0, mode="bilinear", align_corners=False
            )
            return self.head(torch.cat([fine, coarse], 1))

    return Detector()


def _recall(model, photos: list[tuple[np.ndarray, tuple[float, ...]]]) -> float:  # noqa: ANN001
    """How often the surest region found in a whole photo overlaps its plate (IoU > 0.4)."""
    import torch

    from .detect import regions_from_heat
    from .evaluate import iou

    model.eval()
    hits = 0
    with torch.no_grad():
        for image, box in photos:
            x, scale = prepare_image(image)
            heat = torch.sigmoid(model(torch.from_numpy(x[None])))[0, 0].numpy()
            found = regions_from_heat(heat, scale)
            hits += bool(found) and iou(found[0].bbox, box) > 0.4
    model.train()
    return hits / max(len(photos), 1)


def _export(model, out: Path, meta: dict) -> None:  # noqa: ANN001 - a torch module
    """Write the detector as ONNX (batch size and image size free) and its settings and scores beside it."""
    import torch

    axes = {"image": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n", 2: "h4", 3: "w4"}}
    example = torch.zeros(1, 3, 20 * MULTIPLE, 30 * MULTIPLE)
    export_onnx(model, out / "plate_detector.onnx", example, axes, meta)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, nargs="+", required=True, help="openalpr-format folders")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "models")
    add_fold_options(parser)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parse_with_folds(parser, argv)

    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    started = time.time()
    photos = _load(args.photos, args.folds, lambda fold: fold != args.leave_out)
    unseen = (
        _load(args.photos, args.folds, lambda fold: fold == args.leave_out)
        if args.leave_out is not None
        else []
    )
    print(f"photos: {len(photos)} for training, {len(unseen)} left out", flush=True)
    model = _build_model()
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.lr, total_steps=args.steps, pct_start=0.1
    )
    bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(4.0))
    about = {
        "side": SIDE,
        "stride": STRIDE,
        "trained": dt.date.today().isoformat(),
        "photos": [str(f) for f in args.photos],
        "photos_left_out": args.leave_out,
        "folds": args.folds,
        "training_photos": len(photos),
        "steps": args.steps,
        "seed": args.seed,
        "command": "python -m alpr_lib.recognition.train_detector "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    total, since = 0.0, 0
    for step in range(1, args.steps + 1):
        pieces = [_piece(*photos[int(rng.integers(len(photos)))], rng) for _ in range(args.batch)]
        xb = torch.from_numpy(np.stack([p[0] for p in pieces]))
        yb = torch.from_numpy(np.stack([p[1] for p in pieces]))[:, None]
        logits = model(xb)
        probs = torch.sigmoid(logits)
        dice = 1 - (2 * (probs * yb).sum() + 1) / (probs.sum() + yb.sum() + 1)
        loss = bce(logits, yb) + dice
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        total, since = total + float(loss.detach()), since + 1
        if step % 250 == 0 or step == args.steps:
            seen = _recall(model, photos[::4])
            line = (
                f"step {step}/{args.steps}: loss {total / since:.3f}, found first: training photos {seen:.1%}"
            )
            if unseen:
                line += f", left-out photos {_recall(model, unseen):.1%}"
            print(f"{line}, {time.time() - started:.0f} s", flush=True)
            total, since = 0.0, 0
    scores = {"found_first_training": round(_recall(model, photos), 4)}
    if unseen:
        scores["found_first_left_out"] = round(_recall(model, unseen), 4)
    _export(model, args.out, {**about, **scores})
    print(f"wrote {args.out / 'plate_detector.onnx'}: {json.dumps(scores)}")


if __name__ == "__main__":
    main()
