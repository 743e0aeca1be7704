"""Benchmark step 3 (data): super-image loader throughput per worker count against the CPU training rate.

  loader   `superimage_dls` training loader (decode JPEG -> [tile shuffle] -> squash resize -> flip -> tensor ->
           ImageNet normalise), images/s over whole epochs (worker start-up included, as in training), for
           num_workers 0, 1, 2
  train    timm resnet10t (pretrained=False, 17 outputs) forward + backward + AdamW step on CPU, same batch size
           and image size, images/s

It prints loader/train ratios: above 1 the loader keeps up with training. With num_workers=0 loading and training
run one after the other in the same process, so the rate you get is about 1/(1/loader + 1/train); with workers
the two overlap but share the CPU cores. Images are 3x3 grids of 224-px tiles (672x672 JPEGs, as
`qvpipe_superimages --tile 224` writes) of a textured synthetic pattern; the size defaults to the demo config's 240.

    python bench/loader.py [--size 240] [--bs 16] [--n 96] [--workers 0 1 2] [--tile-shuffle]
"""
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings('ignore')


def make_images(folder: Path, n: int, side: int = 672, seed: int = 0) -> pd.DataFrame:
    "`n` textured JPEG super-images (smooth shapes + noise, compressing like photos) and their folds table."
    from qvpipe_nb.core import CLASSES
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    base = np.stack([np.sin((4+3*c)*xx*6.3) * np.cos((5+2*c)*yy*6.3) for c in range(3)], -1)
    for i in range(n):
        coarse = np.asarray(Image.fromarray(rng.integers(0, 256, (42, 42, 3), dtype=np.uint8)).resize((side, side), Image.BICUBIC))
        a = np.roll(base, tuple(rng.integers(0, side, 2)), (0, 1))
        a = (0.5*coarse + 60*a + 64 + rng.integers(-12, 13, a.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(a).save(folder/f'v{i}.jpg', quality=95)
    lab = np.zeros((n, len(CLASSES)), int); lab[np.arange(n), rng.integers(0, len(CLASSES), n)] = 1
    pd.DataFrame(dict(video=[f'v{i}.jpg' for i in range(n)], image=[str(folder/f'v{i}.jpg') for i in range(n)], fold=0,
                      labels=[CLASSES[j] for j in lab.argmax(1)])).to_csv(folder/'items.csv', index=False)
    return pd.read_csv(folder/'items.csv')


def loader_rate(items, size, bs, workers, tile_shuffle, epochs=2):
    "Images/s of the training loader over `epochs` whole epochs (after one untimed warm-up batch)."
    from qvpipe_nb.data import superimage_dls
    dls = superimage_dls(items, valid_fold=None, size=size, bs=bs, num_workers=workers, tile_shuffle=tile_shuffle)
    dl = dls.train
    dl.one_batch()
    n, t0 = 0, time.perf_counter()
    for _ in range(epochs):
        for x, y in dl: n += len(x)
    return n / (time.perf_counter() - t0)


def decode_ms(items, size):
    "Milliseconds per image to open + squash-resize to `size`: full decode vs `LoadImage`'s reduced-scale JPEG decode."
    from qvpipe_nb.data import LoadImage
    res = {}
    for name, load in [('full', LoadImage()), ('draft', LoadImage(size))]:
        t0 = time.perf_counter()
        for p in items.image: load(p).resize((size, size), Image.BILINEAR)
        res[name] = 1000 * (time.perf_counter() - t0) / len(items)
    return res


def train_rate(size, bs, min_steps=3, min_s=4.0):
    "Images/s of resnet10t forward + backward + AdamW step on CPU (one untimed step, then >= min_steps and >= min_s)."
    import torch, timm
    m = timm.create_model('resnet10t', pretrained=False, num_classes=17)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    x, y = torch.randn(bs, 3, size, size), torch.randint(0, 2, (bs, 17)).float()
    lf = torch.nn.BCEWithLogitsLoss()
    def step():
        opt.zero_grad(); lf(m(x), y).backward(); opt.step()
    step()
    n, t0 = 0, time.perf_counter()
    while n < min_steps or time.perf_counter() - t0 < min_s: step(); n += 1
    return n * bs / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', type=int, default=240, help='training image side (demo config: 240)')
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--n', type=int, default=96, help='super-images per epoch')
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--tile-shuffle', action='store_true', help='also apply tile shuffle in the loader')
    a = ap.parse_args()
    import torch
    t_start = time.perf_counter()
    print(f'CPU: {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable), torch threads {torch.get_num_threads()}')
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        items = make_images(Path(d), a.n)
        print(f'{a.n} super-images 672x672 (3x3 x 224 px) written in {time.perf_counter()-t0:.1f}s; '
              f'loader: size {a.size}, bs {a.bs}, flip{", tile shuffle" if a.tile_shuffle else ""}')
        dm = decode_ms(items, a.size)
        print(f"decode+resize per image: full {dm['full']:.1f} ms, reduced-scale JPEG decode {dm['draft']:.1f} ms "
              f"({dm['full']/dm['draft']:.1f}x)")
        tr = train_rate(a.size, a.bs)
        print(f'train  resnet10t fwd+bwd+AdamW, bs {a.bs}, {a.size}px: {tr:7.1f} img/s')
        print(f"\n{'workers':>7} {'loader img/s':>13} {'loader/train':>13} {'serial img/s':>13}")
        for w in a.workers:
            lr = loader_rate(items, a.size, a.bs, w, a.tile_shuffle)
            serial = 1 / (1/lr + 1/tr) if w == 0 else min(lr, tr)
            print(f'{w:>7} {lr:13.1f} {lr/tr:13.2f} {serial:13.1f}' + ('   (load then train, one process)' if w == 0
                                                                       else '   (upper bound: overlapped, cores shared)'))
    print(f'\nbench took {time.perf_counter()-t_start:.0f}s')


if __name__ == '__main__': main()
