"""Synthetic QV-Pipe generator: speed with 1 and 2 processes, class histogram beside QV-Pipe train, and how
often a middle frame vs 9 spread frames sees a defect.  Run: .venv/bin/python bench/synth.py [--n 12]"""
import argparse, os, resource, shutil, tempfile, time
from pathlib import Path
import numpy as np
from qvpipe_nb.core import CLASSES, N_CLASSES, labels2matrix
from qvpipe_nb.synth_labels import QV_N, qv_freqs, synth_labels
from qvpipe_nb.synth_render import render_video
from qvpipe_nb.synth import make_synth

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

def speed(n, workers, size, frames):
    d = Path(tempfile.mkdtemp(prefix='qvsynth_'))
    try:
        c0, t0 = cpu(), time.perf_counter()
        make_synth(d, n=n, seed=workers, size=size, n_frames=frames, workers=workers, progress=False)
        wall, cp = time.perf_counter() - t0, cpu() - c0
        mb = sum(p.stat().st_size for p in (d/'videos').iterdir())/2**20
        return wall, cp, mb
    finally: shutil.rmtree(d, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--n', type=int, default=12, help='videos per speed run')
    ap.add_argument('--size', default='256x192'); ap.add_argument('--frames', type=int, default=64)
    ap.add_argument('--hist-n', type=int, default=2000, help='label sets for the histogram')
    a = ap.parse_args()
    size = tuple(map(int, a.size.split('x')))
    print(f'# speed: {a.n} videos of {a.size} x {a.frames} frames, H.264 (cores: {os.cpu_count()}, '
          f'load average now: {os.getloadavg()[0]:.1f})')
    res = {}
    for w in (1, 2):
        wall, cp, mb = speed(a.n, w, size, a.frames)
        res[w] = a.n/wall
        print(f'  {w} process(es): {wall:6.1f} s wall, {a.n/wall:5.2f} videos/s, {cp/a.n:5.2f} s CPU/video, {mb/a.n:.2f} MB/video')
    print(f'  speed-up 2 vs 1 processes: {res[2]/res[1]:.2f}x; 200 videos at 2 processes: ~{200/res[2]:.0f} s '
          f'(CPU-bound estimate on 2 idle cores: ~{200*cp/a.n/2:.0f} s)')

    lab = synth_labels(a.hist_n, seed=0)
    m = labels2matrix(lab); f, q = m.mean(0), qv_freqs()
    print(f'\n# class histogram: synth_labels({a.hist_n}, seed=0) beside QV-Pipe train ({QV_N} videos)')
    print(f"  {'class':5} {'synth':>7} {'QV':>7}")
    for c, x, y in zip(CLASSES, f, q): print(f'  {c:5} {x:7.3f} {y:7.3f}')
    print(f'  labels/video: synth {m.sum(1).mean():.3f}, QV {q.sum():.3f}; max |diff| {np.abs(f - q).max():.3f}')

    T, seeds, (W, H) = 48, range(4), (80, 64)
    t0 = time.perf_counter()
    print(f'\n# visibility at the demo tile size ({W}x{H}, {T} frames, {len(seeds)} seeds per class, no noise)')
    print(f"  {'class':5} {'frames':>7} {'middle':>7} {'9 frames':>9} {'size px':>8} {'contrast':>9}")
    nine, rows = np.linspace(0, T - 1, 9).round().astype(int), []
    for c in range(1, N_CLASSES):
        vs, side, con = [], [], []
        for s in seeds:
            z = render_video([0], s, (W, H), T, noise=0.).astype(np.int16)
            d = np.abs(render_video([c], s, (W, H), T, noise=0.).astype(np.int16) - z).max(-1)/255
            ch = d >= .2; v = ch.mean((1, 2)) >= .005; vs.append(v)
            b = ch.sum((1, 2)).argmax(); side.append(np.sqrt(ch[b].sum())); con.append(np.median(d[b][ch[b]]) if ch[b].any() else 0)
        vs = np.array(vs); rows.append(vs)
        print(f'  {CLASSES[c]:5} {vs.mean():7.2f} {vs[:, T//2].mean():7.2f} {vs[:, nine].any(-1).mean():9.2f} '
              f'{np.median(side):8.1f} {np.median(con):9.2f}')
    vis = np.array(rows)
    print(f'  all   {vis.mean():7.2f} {vis[..., T//2].mean():7.2f} {vis[..., nine].any(-1).mean():9.2f}')
    print('  frames: share of frames showing the defect (>= 0.2 contrast over >= 0.5% of the frame); middle / 9 frames:'
          '\n  share of videos whose middle frame / 9 evenly spread frames show it; size: side in px of the changed area at'
          f'\n  its best frame; contrast: median change there (0..1).  ({time.perf_counter() - t0:.0f} s)')

if __name__ == '__main__': main()
