"""Real-browser check of the triage page that `qvpipe_infer` writes.

Renders a small synthetic set (two broken files and a video whose name is HTML with a script handler), triages it
with a tiny untrained run (random weights: the page, not the model, is under test) and a blend with thresholds,
then opens OUT/report.html in headless Chromium (Debian's /usr/bin/chromium through Playwright). It checks that
the page loads, that every row is there, that every thumbnail decodes (no broken image), that the hostile name
shows as text and its handler never ran, and saves a screenshot under reports/triage/. Exit 0 on success; a
missing browser skips (exit 0), or fails when QV_REQUIRE_BROWSER=1 (as in CI); exit 1 on a real failure.
"""
import argparse, json, os, shutil, sys, tempfile, time
from pathlib import Path

from browser_check import need_browser, browser_page  # shared with the other browser checks

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = '<img src=x onerror="window.__qv_pwned=1">.mp4'

def make_triage(d:Path)->Path:
    "A triaged small set in `d`/out; returns the report page."
    from qvpipe_nb.core import CLASSES, load_labels
    from qvpipe_nb.synth import make_synth
    from qvpipe_nb.test_utils import fake_run
    from qvpipe_nb.infer import infer
    make_synth(d/'set', n=10, seed=7, size=(64, 48), n_frames=20, bad=2, workers=1, progress=False)
    good = sorted(load_labels(d/'set'/'labels.json'))
    shutil.copy(d/'set'/'videos'/good[0], d/'set'/'videos'/HOSTILE)
    fake_run(d/'runs', 'tiny', folds=2)
    (d/'blend.json').write_text(json.dumps(dict(weights={'tiny': 1.}, zc=dict(t=None), thresholds={c: .5 for c in CLASSES})))
    infer(d/'set'/'videos', d/'out', [d/'runs'/'tiny'], blend=d/'blend.json', workers=1, progress=False)
    return d/'out'/'report.html'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'), help='Chromium executable')
    ap.add_argument('--out', default=str(ROOT/'reports'/'triage'), help='folder for the screenshot')
    a = ap.parse_args()
    chromium = need_browser(a.chromium, 'triage-check')
    shots = Path(a.out); shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        t0 = time.time(); page_file = make_triage(Path(td))
        n_videos = 13
        print(f'triaged {n_videos} videos in {time.time() - t0:.1f}s -> {page_file.name}')
        with browser_page(chromium, shots, viewport=dict(width=1200, height=900)) as pg:
            errors = []
            pg.on('pageerror', lambda e: errors.append(str(e)))
            pg.goto(page_file.as_uri(), wait_until='load')
            rows = pg.locator('table.triage tbody tr').count()
            imgs = pg.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth, i.alt])")
            broken = [alt for ok, w, alt in imgs if not ok or w == 0]
            pwned = pg.evaluate('() => window.__qv_pwned')
            shown = pg.locator('td.v', has_text=HOSTILE).count()
            failed = pg.locator('.fail').count()
            pg.screenshot(path=str(shots/'report.png'), full_page=False)
    problems = []
    if rows != n_videos: problems.append(f'{rows} rows, expected {n_videos}')
    if len(imgs) != n_videos - 2: problems.append(f'{len(imgs)} thumbnails, expected {n_videos - 2} (every readable video)')
    if broken: problems.append(f'broken images: {broken}')
    if pwned is not None: problems.append('a script from a video name ran (window.__qv_pwned is set)')
    if shown != 1: problems.append(f'the hostile name is shown as text {shown} times, expected once')
    if failed != 2: problems.append(f'{failed} failed rows, expected 2')
    if errors: problems.append(f'page errors: {errors}')
    print(f'{rows} rows, {len(imgs)} thumbnails all decoded: {not broken}, hostile name shown as text: {shown == 1}, '
          f'script ran: {pwned is not None}, failed rows: {failed}; screenshot {shots/"report.png"}')
    if problems: print('triage-check FAILED: ' + '; '.join(problems)); return 1
    print('triage-check OK'); return 0

if __name__ == '__main__': sys.exit(main())
