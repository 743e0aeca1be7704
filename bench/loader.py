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

Then, at the recipes' real sizes (672- and 1344-px super-images, 720p frames, with and without tile shuffle), it runs
today's loader (PIL decode with `draft`, tile shuffle on per-cell PIL crops, a squash resize even to the same size,
PIL image to tensor per item) and this one (libjpeg-turbo decode into arrays, tile shuffle and one OpenCV resize on
the arrays, a channels-last uint8 batch stacked in one copy) side by side, in one process on one core (images per CPU-second), and prints
the ratio; then an ESTIMATE (shown as such) of the img/s each recipe's GPU could consume, and the loader cores
that would take at the measured rate.

    python bench/loader.py [--size 240] [--bs 16] [--n 96] [--workers 0 1 2] [--tile-shuffle] [--real] [--real-n 16]
"""
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings('ignore')


def make_images(folder: Path, n: int, side: int = 672, seed: int = 0, width: int | None = None) -> pd.DataFrame:
    "`n` textured JPEG images `side` high and `width` (default `side`) wide (smooth shapes + noise, compressing like photos), and their folds table."
    from qvpipe_nb.core import CLASSES
    rng = np.random.default_rng(seed)
    w = width or side
    yy, xx = np.mgrid[0:side, 0:w] / side
    base = np.stack([np.sin((4+3*c)*xx*6.3) * np.cos((5+2*c)*yy*6.3) for c in range(3)], -1)
    for i in range(n):
        coarse = np.asarray(Image.fromarray(rng.integers(0, 256, (42, 42, 3), dtype=np.uint8)).resize((w, side), Image.BICUBIC))
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


class TodayTileShuffle:
    "The loader's tile shuffle before this change, for the side-by-side: per-cell crops of the PIL image (`superimage.shuffle_tiles`)."
    def __new__(cls, grid=(3, 3)):
        import torch
        from fastai.vision.all import RandTransform, PILImage
        from qvpipe_nb.superimage import shuffle_tiles
        class T(RandTransform):
            split_idx, order = 0, 0
            def before_call(self, b, split_idx):
                super().before_call(b, split_idx); self.perm = torch.randperm(9).tolist()
            def encodes(self, x: PILImage): return PILImage(shuffle_tiles(x, grid, self.perm))
        return T()


class TodayLoadImage:
    "The loader's decode before this change, for the side-by-side: PIL with `draft` (scales 1/2, 1/4, 1/8 only)."
    def __new__(cls, size):
        from fastai.vision.all import DisplayedTransform, PILImage
        class L(DisplayedTransform):
            def encodes(self, o):
                im = Image.open(o)
                h, w = (size, size) if isinstance(size, int) else size
                im.draft('RGB', (w, h)); im.load(); im = im._new(im.im)
                return PILImage(im if im.mode == 'RGB' else im.convert('RGB'))
        return L()


def today_dls(items, size, bs, tile_shuffle):
    "The training loader before this change (PIL decode, tile shuffle on PIL crops, a squash `Resize` even to the same size), else as `superimage_dls`."
    from fastai.vision.all import (DataBlock, TransformBlock, MultiCategoryBlock, IntToFloatTensor, Normalize, Resize, ResizeMethod,
                                   FlipItem, imagenet_stats)
    from qvpipe_nb.core import CLASSES
    from qvpipe_nb.data import image_path, label_codes, fold_splitter
    f = FlipItem(0.5); f.order = 2
    tfms = ([TodayTileShuffle()] if tile_shuffle else []) + [Resize(size, method=ResizeMethod.Squish), f]
    db = DataBlock(blocks=(TransformBlock(type_tfms=TodayLoadImage(size), batch_tfms=IntToFloatTensor), MultiCategoryBlock(vocab=CLASSES)),
                   get_x=image_path, get_y=label_codes, splitter=fold_splitter(None), item_tfms=tfms,
                   batch_tfms=Normalize.from_stats(*imagenet_stats, cuda=False))
    return db.dataloaders(items, bs=bs, num_workers=0, device='cpu')


def per_core(make, epochs=2, min_s=0.5):
    """Images per CPU-second of the CPU side of the training loader `make()`, in one process (torch and OpenCV
    single-threaded), whole epochs (at least `epochs`, and at least `min_s` CPU seconds): decode, item transforms,
    collation. CPU time of this process, not wall time: the other work of a shared machine does not count. The batch
    transforms (uint8 -> float, normalise) are left out: in training they run on the GPU, after the batch is moved there."""
    import torch, cv2
    from fastai.data.core import Pipeline
    torch.set_num_threads(1); cv2.setNumThreads(1)
    dl = make().train
    dl.after_batch = Pipeline([])
    dl.one_batch()
    n, e, t0 = 0, 0, time.process_time()
    while e < epochs or time.process_time() - t0 < min_s:
        for x, y in dl: n += len(x)
        e += 1
    return n / (time.process_time() - t0)


REAL = [  # case, image (height, width), model input, tile shuffle, recipe it stands for
    ('1344-px super-images at 1344, tile shuffle', (1344, 1344), 1344, True, 'convnext_b_superimage_asl'),
    ('1344-px super-images at 1344', (1344, 1344), 1344, False, None),
    ('672-px super-images at 672, tile shuffle', (672, 672), 672, True, None),
    ('672-px super-images at 672', (672, 672), 672, False, None),
    ('448 px from 672-px super-images, tile shuffle', (672, 672), 448, True, None),
    ('448 px from 672-px super-images', (672, 672), 448, False, 'tresnet_mldecoder'),
    ('576 px from 672-px super-images', (672, 672), 576, False, 'nfnet_f3_cbfocal'),
    ('224 px from 720p frames', (720, 1280), 224, False, 'resnet18_framewise'),   # frames have no grid: no tile shuffle
]


def real_sizes(n, bs, rounds=3):
    "Today's loader and this one side by side at the recipes' real sizes, images/s per core; {recipe: this loader's img/s}."
    from qvpipe_nb.data import superimage_dls
    print(f"\n{'case':<46} {'today':>8} {'now':>8} {'ratio':>6}   (img/s per core: per CPU-second, CPU side; {n} images, bs {bs}, >= 2 epochs and 0.5 s, best of {rounds})")
    out = {}
    with tempfile.TemporaryDirectory() as d:
        made = {}
        for case, (h, w), size, ts, recipe in REAL:
            if (h, w) not in made:
                f = Path(d)/f'{h}x{w}'; f.mkdir(); made[(h, w)] = make_images(f, n, side=h, width=w)
            items = made[(h, w)]
            old = new = 0.
            for _ in range(rounds):   # alternated, best of `rounds`: other work on the machine slows either side at random
                old = max(old, per_core(lambda: today_dls(items, size, bs, ts)))
                new = max(new, per_core(lambda: superimage_dls(items, valid_fold=None, size=size, bs=bs, tile_shuffle=ts, device='cpu')))
            print(f'{case:<46} {old:8.1f} {new:8.1f} {new/old:6.2f}x', flush=True)
            if recipe: out[recipe] = new
    return out


GPU_RATES = {  # recipe: (arch, input, bs) -- what the GPU could consume, ESTIMATED (not measured): see `gpu_estimate`
    'convnext_b_superimage_asl': ('convnext_base', 1344), 'tresnet_mldecoder': ('tresnet_m', 448),
    'nfnet_f3_cbfocal': ('dm_nfnet_f3', 576), 'resnet18_framewise': ('resnet18', 224)}


def gpu_estimate(loader=None, tflops=400, util=0.35):
    """ESTIMATE of training img/s on one H100/H200-class GPU: forward GMACs counted on the meta device, x2 FLOPs a MAC,
    x3 for fwd+bwd, at `util` of `tflops` bf16; with `loader` ({recipe: img/s per core}), the loader cores that rate needs."""
    import torch, timm
    from torch.utils.flop_counter import FlopCounterMode
    print(f'\nGPU consumption per recipe (an ESTIMATE, not a measurement: {tflops} dense bf16 TFLOP/s at {util:.0%} utilisation; '
          f'1 MAC = 2 FLOPs; training = 3x forward; make gpu-check measures it)')
    for name, (arch, side) in GPU_RATES.items():
        with torch.device('meta'):
            m = timm.create_model(arch, pretrained=False, num_classes=17); x = torch.empty(1, 3, side, side)
        with FlopCounterMode(display=False) as fc: m(x)
        gf = fc.get_total_flops() / 1e9               # FLOPs (FlopCounterMode counts 2 per MAC)
        rate = tflops * 1e12 * util / (3 * gf * 1e9)
        cores = f'; ~{rate/loader[name]:4.1f} loader cores at the rate measured above' if loader and name in loader else ''
        print(f'  {name:<28} {arch} at {side}px: {gf/2:6.1f} GMACs = {gf:6.1f} GFLOPs forward; ~{rate:6.0f} img/s to keep the GPU busy{cores}')


def decode_ms(items, size):
    "Milliseconds per image to open + squash-resize to `size`: full decode vs `LoadImage`'s reduced-scale JPEG decode."
    from qvpipe_nb.data import LoadImage, ResizeIfNeeded
    res, resize = {}, ResizeIfNeeded(size)
    for name, load in [('full', LoadImage()), ('draft', LoadImage(size))]:
        t0 = time.perf_counter()
        for p in items.image: resize(load(p))
        res[name] = 1000 * (time.perf_counter() - t0) / len(items)
    return res


def train_rate(size, bs, min_steps=2, min_s=3.0):
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
    ap.add_argument('--real', action='store_true', help="only the real sizes: today's loader and this one side by side, per core")
    ap.add_argument('--real-n', type=int, default=16, help='images per real-size case')
    a = ap.parse_args()
    if a.real:
        gpu_estimate(real_sizes(a.real_n, 4)); return
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
    gpu_estimate(real_sizes(a.real_n, 4))
    print(f'\nbench took {time.perf_counter()-t_start:.0f}s')


if __name__ == '__main__': main()
