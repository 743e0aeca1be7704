"""Super-images against a single middle frame: same synthetic data, backbone, input size and training budget.

For each seed: a synthetic train set (5 folds, trained on one fold split: 4/5 train, 1/5 valid) and a held-out test
set; the 3x3 super-image model and the middle-frame model (the middle one of the 9 extracted frames, squashed to
the same input size) train with the same config; both predict the test set (flip TTA). Prints both test mAPs
(official metric) per seed and their means.

The demo's config and frame size (64x48 tiles, a 192x144 super-image, `test_byobnet` from scratch) with a longer
schedule (40 epochs instead of the demo's 25). The super-image model also shuffles its 9 tiles (`tile_shuffle`, the
augmentation a single frame cannot have; `--no_shuffle` turns it off). About 25 minutes on 2 CPU cores.

    python bench/superimage_vs_frame.py [--seeds 0 1 2] [--epochs 40] [--n_train 500] [--n_test 200]
"""
import argparse, json, shutil, sys, time
from pathlib import Path
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--n_train', type=int, default=500)
    ap.add_argument('--n_test', type=int, default=200)
    ap.add_argument('--size', default='64x48')
    ap.add_argument('--config', default='exp/configs/demo.yaml')
    ap.add_argument('--root', default='bench/out/si_vs_frame')
    ap.add_argument('--no_shuffle', action='store_true', help='train the super-image model without tile shuffling')
    a = ap.parse_args()
    from PIL import Image
    from qvpipe_nb.core import load_labels, CLASSES
    from qvpipe_nb.synth import make_synth
    from qvpipe_nb.frames import extract_all, video_frames
    from qvpipe_nb.splits import make_folds, save_folds
    from qvpipe_nb.superimage import build_superimages
    from qvpipe_nb.train import load_config, train_fold
    from qvpipe_nb.inference import predict
    from qvpipe_nb.ensemble import fold_mean
    from qvpipe_nb.metrics import read_preds
    from qvpipe_nb.metrics import mean_ap
    from qvpipe_nb.core import labels2matrix
    W, H = map(int, a.size.split('x'))
    res = {'superimage': [], 'middle_frame': []}
    t0 = time.time()
    for seed in a.seeds:
        root = Path(a.root)/f'seed{seed}'
        make_synth(root/'train', n=a.n_train, seed=100 + seed, size=(W, H), n_frames=48, progress=False)
        make_synth(root/'test', n=a.n_test, seed=200 + seed, size=(W, H), n_frames=48, progress=False)
        for part in ['train', 'test']:
            extract_all(root/part/'videos', root/f'frames_{part}', k=9, progress=False, quiet=True)
            build_superimages(root/f'frames_{part}', root/f'si_{part}', (3, 3), (W, H), progress=False)
            mid = root/f'mid_{part}'; mid.mkdir(exist_ok=True)
            for v in load_labels(root/part/'labels.json'):
                fs = video_frames(root/f'frames_{part}', v)
                Image.open(fs[len(fs)//2]).save(mid/f'{Path(v).stem}.jpg', quality=95)
        save_folds(make_folds(load_labels(root/'train'/'labels.json'), 5, seed=42), root/'folds.csv')
        test = load_labels(root/'test'/'labels.json'); y = labels2matrix(test, list(test))
        for kind, d in [('superimage', 'si'), ('middle_frame', 'mid')]:
            cfg = load_config(a.config, name=f'{kind}_s{seed}', folds_csv=str(root/'folds.csv'), images=str(root/f'{d}_train'),
                              runs=str(root/'runs'), epochs=a.epochs, seed=seed,
                              tile_shuffle=kind == 'superimage' and not a.no_shuffle)
            run = train_fold(cfg, 0).parent
            csv = predict(root/f'{d}_test', root/f'pred_{kind}', [run], progress=False)[run.name]
            p = fold_mean(read_preds(csv)).set_index('video').loc[list(test), CLASSES].values
            m = mean_ap(p, y)[0]; res[kind].append(m)
            print(f'seed {seed} {kind:13s} test mAP {m:.4f}  ({time.time()-t0:.0f} s so far)', flush=True)
    si, mf = np.mean(res['superimage']), np.mean(res['middle_frame'])
    print(f"\nsuper-image  test mAP per seed {[round(x, 4) for x in res['superimage']]} mean {si:.4f}")
    print(f"middle frame test mAP per seed {[round(x, 4) for x in res['middle_frame']]} mean {mf:.4f}")
    print(f'super-image - middle frame: {si - mf:+.4f} mAP (target >= +0.05); super-image mean {si:.4f} (target >= 0.85); '
          f'{time.time()-t0:.0f} s')
    Path(a.root).mkdir(parents=True, exist_ok=True)
    (Path(a.root)/'result.json').write_text(json.dumps(dict(res, args=vars(a)), indent=1))

if __name__ == '__main__': main()
