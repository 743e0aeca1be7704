"""Benchmark step 1 (frame extraction) on QV-like H.264 videos: every path side by side in one run, against the targets.

The videos: 1280x720, 25 fps, 383 frames, GOP 250, B-frames (libx264 preset fast), generated into a temporary
folder (or `--keep`, reused). The paths, each timed on the same videos in rotating order, wall and CPU seconds:

  floor          PyAV decodes every frame (frame threads), converts none: the cost of one exact full pass
  floor 1 thread the same with one thread
  ref-only       PyAV decodes the reference frames only (`skip_frame=NONREF`): the floor of skipping
  ref-only 1 th. the same with one thread
  read_video     `qvpipe_nb.frames.read_video(path, k)`: skipping what no target needs, where it is exact
  read_video full  the same with `skip=False` (today's code without skipping)
  read_video before  `read_video` of the code before skipping (commit `--before`, loaded from git into a temp folder)
  decord         `decord.VideoReader(...).get_batch(indices)`, where decord is installed (not exact-checked)
  torchcodec     `VideoDecoder(...).get_frames_at(indices)`, where torchcodec is installed
  seek K         the challenge repositories' method: OpenCV, one `CAP_PROP_POS_FRAMES` seek + `read` per index, JPEG
                 quality 95 written per frame
  CLI K          `qvpipe_extract VIDEOS OUT --k K --workers 1` in a fresh Python (start-up included), now and before

Reported: per path the fastest of `--rounds` rounds (the machine is shared: the minimum is the least disturbed),
wall and CPU seconds per video, the ratios the targets name, the load average, and whether read_video's frames
equal a full single-threaded decode's. CPU seconds are the steadier figure on a loaded machine.

    python bench/extract.py [--videos 6] [--frames 383] [--rounds 2] [--keep DIR] [--before b9fcc48] [--check]
"""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import av, cv2, numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from qvpipe_nb.frames import read_video, frame_indices


def make_qv_video(path, n=383, w=1280, h=720, fps=25, gop=250, seed=0):
    """A QV-like H.264 clip: a textured pipe-like pattern drifting across the frame, with sensor noise.

    Not `qvpipe_nb.test_utils.make_video`: its barcode frames are made to be read back in tests, while the timings here
    want a pipe-like picture whose bitrate and decode cost are those of an inspection video."""
    rng = np.random.default_rng(seed)
    H, W = h + 200, w + 300
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = np.hypot(yy - H/2, xx - W/2)
    base = 110 + 60*np.sin(r/(14 + 4*seed)) + rng.normal(0, 25, (H, W)).astype(np.float32)
    base = cv2.GaussianBlur(base, (0, 0), 1.0)
    tex = np.clip(np.stack([base*0.9, base*0.8 + 10, base*0.6 + 20], -1), 0, 255).astype(np.uint8)
    tex = cv2.subtract(tex, np.full_like(tex, 6))
    noise = [np.repeat(rng.integers(0, 13, (h, w, 1), dtype=np.uint8), 3, 2) for _ in range(7)]
    c = av.open(str(path), 'w'); s = c.add_stream('libx264', rate=fps)
    s.width, s.height, s.pix_fmt = w, h, 'yuv420p'; s.options = {'g': str(gop), 'preset': 'fast'}
    for i in range(n):
        dy, dx = int(100 + 80*np.sin(i/40)), int(i*300/n)
        img = cv2.add(tex[dy:dy+h, dx:dx+w], noise[i % 7])
        for p in s.encode(av.VideoFrame.from_ndarray(img, format='rgb24')): c.mux(p)
    for p in s.encode(): c.mux(p)
    c.close()
    return str(path)


def floor(path, skip=None, threads='AUTO'):
    "Decode every frame (or the reference frames only: `skip='NONREF'`), convert none."
    with av.open(str(path)) as c:
        s = c.streams.video[0]; s.thread_type = threads
        if threads == 'NONE': s.codec_context.thread_count = 1
        if skip: s.codec_context.skip_frame = skip
        for _ in c.decode(s): pass


def seek(path, out, k):
    "The challenge repositories' method: one CAP_PROP_POS_FRAMES seek + read per index, JPEG via imwrite."
    d = Path(out)/Path(path).stem; d.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    for i in frame_indices(n, k):
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, fr = cap.read()
        if ok: cv2.imwrite(str(d/f'{i:06d}.jpg'), fr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cap.release()


def before_tree(rev, tmp):
    "The package at commit `rev`, as `qvpipe_old` (in-process) and as `qvpipe_nb` (for its CLI), under `tmp`."
    for name in ('old_cli', 'old_mod'):
        d = tmp/name; d.mkdir()
        tar = subprocess.run(['git', '-C', str(ROOT), 'archive', rev, 'qvpipe_nb'], capture_output=True, check=True).stdout
        subprocess.run(['tar', '-x', '-C', str(d)], input=tar, check=True)
    os.rename(tmp/'old_mod'/'qvpipe_nb', tmp/'old_mod'/'qvpipe_old')
    sys.path.insert(0, str(tmp/'old_mod'))
    import qvpipe_old.frames as old
    return old, tmp/'old_cli'


def cli(vids, out, k, tree):
    "`qvpipe_extract` in a fresh Python on a folder of `vids`, with the package of `tree` first on the path."
    src = Path(out).with_name(Path(out).name + '_in'); src.mkdir(parents=True, exist_ok=True)
    for v in vids:
        if not (src/Path(v).name).exists(): os.symlink(v, src/Path(v).name)
    shutil.rmtree(out, ignore_errors=True)
    code = 'import sys; from qvpipe_nb.frames import extract_cli; sys.exit(extract_cli())'
    env = {**os.environ, 'PYTHONPATH': str(tree)}
    subprocess.run([sys.executable, '-c', code, str(src), str(out), '--k', str(k), '--workers', '1'], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(f):
    "(wall, CPU) seconds of `f()`, CPU of this process (all its threads) and of the children it waited for."
    ru = lambda: resource.getrusage(resource.RUSAGE_CHILDREN)
    c0, r0, t = time.process_time(), ru(), time.perf_counter()
    f()
    r1 = ru()
    return time.perf_counter() - t, time.process_time() - c0 + (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--videos', type=int, default=6)
    ap.add_argument('--frames', type=int, default=383)
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--before', default='b9fcc48', help='the commit to compare with (the code before skipping)')
    ap.add_argument('--check', action='store_true', help='exit with status 1 when a target is not met')
    ap.add_argument('--keep', default=None, help='folder to keep the generated videos in and reuse them from (default: a temporary folder)')
    a = ap.parse_args()
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix='qvpipe_bench_'))
    src = Path(a.keep) if a.keep else tmp; src.mkdir(parents=True, exist_ok=True)
    try:
        print(f'machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; PyAV {av.__version__}, OpenCV {cv2.__version__}')
        want = [src/f'qv{i}_{a.frames}.mp4' for i in range(a.videos)]
        new = [(p, i) for i, p in enumerate(want) if not p.exists()]
        with ProcessPoolExecutor(2) as ex:  # written beside, renamed when whole: a kept folder never holds half a video
            list(ex.map(make_qv_video, [p.with_suffix('.part.mp4') for p, _ in new], [a.frames]*len(new), [1280]*len(new),
                        [720]*len(new), [25]*len(new), [250]*len(new), [i for _, i in new]))
        for p, _ in new: os.replace(p.with_suffix('.part.mp4'), p)
        vids = [str(p) for p in want]
        mb = sum(Path(v).stat().st_size for v in vids) / 2**20
        print(f'{len(vids)} videos 1280x720, 25 fps, {a.frames} frames, GOP 250, B-frames, H.264 ({mb/len(vids):.1f} MB each), '
              f'{"made" if new else "reused"} in {time.time()-t0:.0f}s')
        old, old_tree = before_tree(a.before, tmp)
        each = lambda f: (lambda: [f(v) for v in vids])
        methods = {
            'floor': each(floor), 'floor 1 thread': each(lambda v: floor(v, threads='NONE')),
            'ref-only': each(lambda v: floor(v, 'NONREF')), 'ref-only 1 thread': each(lambda v: floor(v, 'NONREF', 'NONE')),
            'read_video K=9': each(lambda v: read_video(v, 9)), 'read_video K=16': each(lambda v: read_video(v, 16)),
            'read_video K=9 full': each(lambda v: read_video(v, 9, skip=False)),
            'read_video K=9 before': each(lambda v: old.read_video(v, 9)), 'read_video K=16 before': each(lambda v: old.read_video(v, 16)),
            'seek K=9': each(lambda v: seek(v, tmp/'seek9', 9)), 'seek K=16': each(lambda v: seek(v, tmp/'seek16', 16)),
            'CLI K=9': lambda: cli(vids, tmp/'cli9', 9, ROOT), 'CLI K=16': lambda: cli(vids, tmp/'cli16', 16, ROOT),
            'CLI K=9 before': lambda: cli(vids, tmp/'old9', 9, old_tree), 'CLI K=16 before': lambda: cli(vids, tmp/'old16', 16, old_tree)}
        try:
            import decord
            def dec(v):
                r = decord.VideoReader(v, ctx=decord.cpu(0)); r.get_batch(frame_indices(len(r), 9)).asnumpy()
            methods['decord K=9'] = each(dec)
        except ImportError: print('decord: not installed')
        try:
            from torchcodec.decoders import VideoDecoder
            def tc(v):
                d = VideoDecoder(v); d.get_frames_at(frame_indices(d.metadata.num_frames, 9))
            methods['torchcodec K=9'] = each(tc)
        except ImportError: print('torchcodec: not installed')
        for v in vids: floor(v)                       # warm-up: file cache, library init
        read_video(vids[0], 9); old.read_video(vids[0], 9)
        best = {m: (float('inf'), float('inf')) for m in methods}
        names, loads = list(methods), []
        for r in range(a.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                w, c = timed(methods[name])
                best[name] = (min(best[name][0], w), min(best[name][1], c))
            loads.append(os.getloadavg()[0])
        n = len(vids)
        print(f'\nseconds per video, fastest of {a.rounds} rounds (load average after each round: {", ".join(f"{x:.1f}" for x in loads)}):')
        print(f'  {"path":<24} {"wall":>7} {"CPU":>7}  {"wall / floor":>12} {"CPU / floor":>12}')
        fw, fc = best['floor']
        for m in names:
            w, c = best[m]
            print(f'  {m:<24} {w/n:7.3f} {c/n:7.3f}  {w/fw:12.2f} {c/fc:12.2f}')

        # exactness: read_video's frames (skipping) are those of a full single-threaded decode, and those of the code before
        diff = 0
        for v in vids:
            _, fr = read_video(v, 9); _, fo = old.read_video(v, 9)
            with av.open(v) as c:
                s = c.streams.video[0]; s.thread_type, s.codec_context.thread_count = 'NONE', 1
                want = set(frame_indices(a.frames, 9))
                ref = {i: f.to_ndarray(format='bgr24') for i, f in enumerate(c.decode(s)) if i in want}
            diff += sum(int((x != ref[i]).any()) + int((x != y).any()) for i, x, y in zip(frame_indices(a.frames, 9), fr, fo))
        print(f'read_video vs a full single-threaded decode and vs the code before: {diff} frames differ (target 0)')

        W = lambda m: best[m][0]; C = lambda m: best[m][1]
        rows = []
        def check(label, val, ok, target):
            rows.append((label, val, target, ok)); print(f'  {label:<46} {val:6.2f}x  target {target:<8} {"MET" if ok else "NOT MET"}')
        print('\nratios (wall; CPU in brackets is the steadier one on a shared machine):')
        for m in ('read_video K=9 full', 'read_video K=9'):
            lim = 1.05 if 'full' in m else 0.9
            check(f'{m} / floor', W(m)/W('floor'), W(m)/W('floor') <= lim if 'full' in m else W(m)/W('floor') < lim, f'{"<=" if "full" in m else "<"} {lim}')
            print(f'      (CPU {C(m)/C("floor"):.2f}x)')
        for k, t in ((9, 2.0), (16, 3.0)):
            check(f'seek K={k} / CLI K={k} (speed-up)', W(f'seek K={k}')/W(f'CLI K={k}'), W(f'seek K={k}')/W(f'CLI K={k}') >= t, f'>= {t}')
            print(f'      (CPU {C(f"seek K={k}")/C(f"CLI K={k}"):.2f}x; before: wall {W(f"seek K={k}")/W(f"CLI K={k} before"):.2f}x, '
                  f'CPU {C(f"seek K={k}")/C(f"CLI K={k} before"):.2f}x)')
        for m in ('read_video K=9', 'read_video K=16', 'CLI K=9', 'CLI K=16'):
            print(f'  {m} before / now: wall {W(m + " before")/W(m):.2f}x, CPU {C(m + " before")/C(m):.2f}x')
        print(f'\nbench took {time.time()-t0:.0f}s; ' + ('all targets met' if all(r[3] for r in rows) and not diff else
              'NOT MET: ' + ', '.join([r[0] for r in rows if not r[3]] + (['exactness'] if diff else []))))
        return 1 if a.check and (diff or not all(r[3] for r in rows)) else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': sys.exit(main())
