"""Start-up of the data-step commands, and what it costs the extraction step on a few short videos.

1. For each data-step command (qvpipe_extract, qvpipe_split, qvpipe_superimages, qvpipe_evaluate, qvpipe_synth): the
   median of `--rounds` wall times of `CMD --help` (a fresh process each time: interpreter, imports, parser), printed
   against the 0.25 s target as a ratio; for the first three also a trivial run (a missing input folder: exit 2).
2. On `--videos` short 720p H.264 videos (`qvpipe_nb.test_utils.make_video`, 1280x720, `--frames` frames, GOP 250):
   the whole `qvpipe_extract VIDEOS OUT --k 9` wall time, the share of it that is start-up (its `--help` time), and the
   command against the per-index-seek method of the challenge repositories at K=9 (`seek` of bench/extract.py,
   called in this process, so it pays no start-up). Target: start-up at most 15% of the run, the command under 2x seek.

    python bench/startup.py [--rounds 5] [--videos 6] [--frames 50] [--check]
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT/'bench'))
BIN = Path(sys.executable).parent
COMMANDS = ['qvpipe_extract', 'qvpipe_split', 'qvpipe_superimages', 'qvpipe_evaluate', 'qvpipe_synth']
TRIVIAL = {'qvpipe_extract': ['nowhere', 'out'], 'qvpipe_split': ['nowhere.json', 'folds.csv'], 'qvpipe_superimages': ['nowhere', 'out']}
TARGET = 0.25


def wall(argv, rounds, cwd=None, expect=None):
    "Median wall time in seconds of `argv` run `rounds` times, each in a fresh process."
    ts = []
    for _ in range(rounds):
        t = time.perf_counter(); r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd); ts.append(time.perf_counter() - t)
        if expect is not None and r.returncode != expect: raise RuntimeError(f'{argv}: exit {r.returncode}: {r.stderr[-300:]}')
    return statistics.median(ts)


def startup(rounds, tmp):
    "{command: median --help seconds}, printed with the ratio to the target (and a trivial run's time where there is one)."
    print(f'start-up, median of {rounds} fresh processes (target {TARGET} s):')
    res = {}
    for c in COMMANDS:
        res[c] = wall([str(BIN/c), '--help'], rounds, expect=0)
        line = f'  {c + " --help":<28} {res[c]:5.3f} s  {res[c]/TARGET:5.2f}x target'
        if c in TRIVIAL:
            t = wall([str(BIN/c), *TRIVIAL[c]], rounds, cwd=tmp, expect=2)
            line += f';  trivial run (missing input) {t:5.3f} s  {t/TARGET:5.2f}x'
        print(line + ('' if res[c] <= TARGET else '  NOT MET'))
    return res


def extraction(n_videos, n_frames, rounds, tmp, help_s):
    "The extraction command's start-up share, and the command against per-index seeking, on short 720p videos."
    from qvpipe_nb.test_utils import make_video
    from extract import seek   # bench/extract.py: the challenge repositories' method
    vids = tmp/'videos'; vids.mkdir()
    for i in range(n_videos): make_video(vids/f'v{i}.mp4', n_frames, w=1280, h=720, opts={'g': '250', 'preset': 'fast'})
    mb = sum(p.stat().st_size for p in vids.iterdir()) / 2**20 / n_videos
    cli, sk = [], []
    for r in range(rounds):
        out = tmp/f'cli{r}'
        t = time.perf_counter(); p = subprocess.run([str(BIN/'qvpipe_extract'), str(vids), str(out), '--k', '9'], capture_output=True, text=True)
        cli.append(time.perf_counter() - t)
        if p.returncode: raise RuntimeError(f'qvpipe_extract: exit {p.returncode}: {p.stderr[-300:]}')
        t = time.perf_counter()
        for v in sorted(vids.iterdir()): seek(v, tmp/f'seek{r}', 9)
        sk.append(time.perf_counter() - t)
    c, s = statistics.median(cli), statistics.median(sk)
    share = help_s / c
    print(f'\nqvpipe_extract on {n_videos} videos 1280x720, {n_frames} frames, GOP 250 ({mb:.1f} MB each), K=9, median of {rounds}:')
    print(f'  whole command {c:.2f} s, of which start-up {help_s:.3f} s: {100*share:.0f}% (target <= 15%)')
    print(f'  per-index seek (in process, no start-up) {s:.2f} s: the command takes {c/s:.2f}x (target < 2x)')
    return share <= 0.15 and c/s < 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=5, help='fresh processes per measurement (the median is kept)')
    ap.add_argument('--videos', type=int, default=6)
    ap.add_argument('--frames', type=int, default=50)
    ap.add_argument('--check', action='store_true', help='exit with status 1 when a target is not met')
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='qvpipe_startup_'))
    try:
        print(f'machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}')
        res = startup(a.rounds, tmp)
        ok = extraction(a.videos, a.frames, min(a.rounds, 3), tmp, res['qvpipe_extract'])
        ok = ok and all(t <= TARGET for t in res.values())
        print('\nall targets met' if ok else '\nNOT MET: see above')
        return 1 if a.check and not ok else 0
    finally: shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': sys.exit(main())
