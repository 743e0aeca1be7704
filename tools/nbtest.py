"Run every notebook's tests (like `nbdev_test`), print one line per notebook and a closing `N passed, N failed`."
import argparse, multiprocessing, os, sys, time
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor, as_completed

def _run(fn, skip, force, basepath):
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    # this worker was spawned, which makes spawn its default; notebooks expect Linux's usual fork for their own pools
    if sys.platform == 'linux': multiprocessing.set_start_method('fork', force=True)
    from nbdev.test import test_nb
    import io, contextlib, shutil, tempfile
    # the notebook's temporary files (and its subprocesses', through TMPDIR) go in one folder, removed afterwards:
    # a full run writes a few GB of fake runs, checkpoints and videos that would otherwise stay in /tmp
    tmp = tempfile.mkdtemp(prefix=f'qvpipe-test-{Path(fn).stem}-')
    os.environ['TMPDIR'] = tmp; tempfile.tempdir = None
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err): ok, t = test_nb(Path(fn), skip_flags=skip, force_flags=force, basepath=basepath)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    return fn, ok, t, err.getvalue()

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--path', default=None, help='a notebook or glob (default: all of nbs/)')
    ap.add_argument('--flags', default='', help='space-separated test flags to run, e.g. "slow"')
    ap.add_argument('--n_workers', type=int, default=2)
    a = ap.parse_args()
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    cfg = get_config()
    skip, force = cfg.tst_flags.split(), a.flags.split()
    files = [Path(f).absolute() for f in sorted(nbglob(a.path, as_path=True))]
    files = [f for f in files if not (f.parent/'.notest').exists() and not f.name.startswith('_')]
    if not files: print('no notebooks to test'); print('0 passed, 0 failed'); sys.exit(1)
    os.chdir(cfg.nbs_path)
    passed, failed, t0 = [], [], time.time()
    # a fresh process per notebook: executing a notebook replaces the worker's __main__ and leaves its state behind
    ctx = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(a.n_workers, mp_context=ctx, max_tasks_per_child=1) as ex:
        futs = [ex.submit(_run, str(f), skip, force, str(cfg.config_path)) for f in files]
        for fut in as_completed(futs):
            fn, ok, t, err = fut.result()
            name = Path(fn).relative_to(cfg.nbs_path.absolute())
            print(f"{'PASS' if ok else 'FAIL'} {name} ({t:.0f}s)", flush=True)
            if not ok: sys.stderr.write(err + '\n'); failed.append(name)
            else: passed.append(name)
    print(f'notebook tests took {time.time()-t0:.0f}s' + (f"; failed: {', '.join(map(str, failed))}" if failed else ''))
    print(f'{len(passed)} passed, {len(failed)} failed')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
