"""Real-browser check of the error-analysis widget.

Starts JupyterLab on 127.0.0.1 (random free port, random token) in a temporary folder, opens a small demo
notebook that shows `qvpipe_nb.widgets.ErrorBrowser` in headless Chromium (Debian's /usr/bin/chromium through
Playwright), runs all cells, waits until the widget is rendered, drives it (class dropdown, threshold, a
Grad-CAM button) and saves screenshots under reports/browser/. The videos carry hostile names
(`<img src=x onerror="window.__qv_pwned=1">`): the page must show them as text and no handler may run. The
HTML evaluation report of `report.write_report`, built with hostile model and video names, is opened too. Exit 0 on success, or with a `skipped:` message
when Chromium or Playwright is missing (exit 1 instead when QV_REQUIRE_BROWSER=1, as in CI); exit 1 on a real failure. The server is always stopped.
"""
import argparse, json, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROME_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync']

DEMO = [('markdown', '# Error browser (browser check)\nA synthetic prediction set and an untrained tiny model.'),
        ('code', 'import tempfile, timm\nfrom PIL import Image\nfrom qvpipe_nb.widgets import ErrorBrowser\nfrom qvpipe_nb.test_utils import demo_errors\n'
                 'from qvpipe_nb.saliency import image_tensor\n'
                 "data = demo_errors(tempfile.mkdtemp(), n=80)\n"
                 "data.videos = [f'{i}' + EVIL for i in range(len(data))]  # hostile names: shown as text, never run\n"
                 "model = timm.create_model('resnet10t', num_classes=17, pretrained=False)\ndata"),
        ('code', "b = ErrorBrowser(data, page_size=6, thumb=80, model=model, tfm=lambda p: image_tensor(Image.open(p), 96))\nb")]

EVIL = '<img src=x onerror="window.__qv_pwned=1">.mp4'
DEMO[1] = (DEMO[1][0], f'EVIL = {EVIL!r}\n' + DEMO[1][1])

class Failure(Exception): pass

def check_escaped(page, where:str):
    "The hostile names show as text, and their handler never ran."
    page.wait_for_timeout(300)
    if page.evaluate('() => window.__qv_pwned !== undefined'): raise Failure(f'{where}: a file name ran as HTML (window.__qv_pwned is set)')
    if page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length"): raise Failure(f'{where}: a file name became an <img> element')
    if not page.evaluate("t => document.body.innerText.includes(t)", '<img src=x onerror='): raise Failure(f'{where}: the hostile name is not shown as text')
    print(f'{where}: hostile file names shown as text, no script ran')

def write_report_page(d:Path)->Path:
    "An evaluation report whose model and video names are hostile."
    import numpy as np, pandas as pd
    from qvpipe_nb.core import CLASSES
    from qvpipe_nb.report import write_report
    rng = np.random.default_rng(0); n = 40
    vids = [f'{i}{EVIL}' for i in range(n)]
    y = np.zeros((n, len(CLASSES)), int); y[np.arange(n), rng.integers(0, len(CLASSES), n)] = 1
    oof = pd.DataFrame(np.clip(y*0.6 + rng.random(y.shape)*0.5, 0, 1), columns=CLASSES); oof.insert(0, 'video', vids); oof.insert(1, 'fold', np.arange(n) % 2)
    lab = pd.DataFrame(y, columns=CLASSES); lab.insert(0, 'video', vids)
    test = oof[oof.index < n - 3]
    write_report(d, {EVIL: oof}, lab, test={EVIL: test}, test_labels=lab, fill=0.0, title='Report ' + EVIL)
    return d/'report.html'


def skip(msg, what='browser-check'):
    "Skip, or fail where a browser is required (CI sets QV_REQUIRE_BROWSER=1)."
    if os.environ.get('QV_REQUIRE_BROWSER') == '1': print(f'{what} FAILED: {msg} (QV_REQUIRE_BROWSER=1)'); sys.exit(1)
    print(f'{what} skipped: {msg}'); sys.exit(0)

def need_browser(chromium:str, what:str='browser-check')->str:
    "The Chromium to drive; a skip (or a failure, see `skip`) when it or the playwright package is missing."
    exe = chromium if Path(chromium).exists() else shutil.which('chromium')
    if not exe: skip(f'no Chromium at {chromium} or on PATH (Debian: apt-get install chromium)', what)
    from qvpipe_nb.core import QVError, need_extra
    try: need_extra('playwright.sync_api', 'it')
    except QVError as e: skip(f'{e} (or make browser-deps)', what)
    return exe

@contextmanager
def browser_page(chromium:str, shots:Path, **kw):
    "A page in headless Chromium (`kw`: new_page options); when the block fails, its screenshot goes to shots/failure.png."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        try:
            page = br.new_page(**kw)
            try: yield page
            except Exception:
                try: page.screenshot(path=str(shots/'failure.png')); print(f'page at failure: {shots}/failure.png', file=sys.stderr)
                except Exception: pass
                raise
        finally: br.close()

def failed(what:str, e:Exception, log:Path, server:str)->int:
    "Say why a check failed, with the last lines of its server's log; the exit code 1."
    print(f'{what} FAILED: {str(e).splitlines()[0] if str(e) else type(e).__name__}', file=sys.stderr)
    tail = log.read_text(errors='replace').splitlines()[-25:] if log.exists() else []
    print(f'--- last lines of the {server} log ---\n' + '\n'.join(tail), file=sys.stderr)
    return 1

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def write_demo(path:Path):
    cells = [dict(cell_type=k, id=f'cell{i}', metadata={}, source=src, **({} if k == 'markdown' else dict(outputs=[], execution_count=None)))
             for i, (k, src) in enumerate(DEMO)]
    nb = dict(cells=cells, nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')))
    path.write_text(json.dumps(nb, indent=1))

def start_lab(root:Path, port:int, token:str, log, threads:int=1):
    "Start JupyterLab from this interpreter's environment with all its state inside `root`; kernels use `threads` threads."
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root/'.cfg'), 'JUPYTER_DATA_DIR': str(root/'.data'),
           'JUPYTER_RUNTIME_DIR': str(root/'.run'), 'JUPYTERLAB_SETTINGS_DIR': str(root/'.lab-settings'),
           'JUPYTERLAB_WORKSPACES_DIR': str(root/'.lab-ws'), 'IPYTHONDIR': str(root/'.ipython'),
           'MPLCONFIGDIR': str(root/'.mpl'), 'OMP_NUM_THREADS': str(threads), 'PYTHONPATH': str(ROOT)}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--port-retries=0',
           '--ServerApp.ip=127.0.0.1', f'--IdentityProvider.token={token}', '--allow-root', f'--ServerApp.root_dir={root/"nb"}',
           '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    ns = root/'.lab-settings'/'@jupyterlab'/'apputils-extension'; ns.mkdir(parents=True, exist_ok=True)
    (ns/'notification.jupyterlab-settings').write_text('{"fetchNews": "false", "checkForUpdates": false}')
    return subprocess.Popen(cmd, cwd=root/'nb', env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

def stop(proc):
    "Stop the server and its kernels (its own process group)."
    if proc is None or proc.poll() is not None: return
    for sig, wait in [(signal.SIGTERM, 15), (signal.SIGKILL, 5)]:
        try: os.killpg(proc.pid, sig)
        except ProcessLookupError: return
        try: proc.wait(wait); return
        except subprocess.TimeoutExpired: pass

def wait_ready(proc, port, token, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise Failure(f'JupyterLab exited with code {proc.returncode} before it was ready')
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    raise Failure(f'JupyterLab did not answer on port {port} within {timeout} s')

def check(page, shots:Path, timeout_ms:int):
    "Run the demo notebook in the page, wait for the widget, drive it and take screenshots."
    page.wait_for_selector('.jp-Notebook', timeout=timeout_ms)
    page.wait_for_function('() => window.jupyterapp && window.jupyterapp.shell.currentWidget && '
                           'window.jupyterapp.shell.currentWidget.sessionContext', timeout=timeout_ms)
    page.evaluate('async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }')
    page.evaluate("async () => { await window.jupyterapp.commands.execute('application:toggle-left-area'); }")
    page.evaluate("async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    # rendered: the class dropdown, the threshold slider, thumbnails and the figures
    page.wait_for_selector('.qv-browser .qv-cls select', timeout=timeout_ms)
    page.wait_for_selector('.qv-browser .qv-thresh .noUi-handle, .qv-browser .qv-thresh input', timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('.qv-browser .qv-fp img').length > 0", timeout=timeout_ms)
    errs = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText)"
                         ".filter(t => /Traceback|Error displaying widget|model not found/.test(t))")
    if errs: raise Failure('error output in the notebook: ' + errs[0][:500])
    n_img = page.evaluate("() => document.querySelectorAll('.qv-browser img').length")
    opts = page.evaluate("() => [...document.querySelectorAll('.qv-browser .qv-cls select option')].map(o => o.textContent)")
    if len(opts) != 17: raise Failure(f'the class dropdown shows {len(opts)} options, expected 17')
    stats = lambda: page.inner_text('.qv-browser .qv-stats')
    s0 = stats()
    print(f'widget rendered: {n_img} images, 17 classes, first option {opts[0]!r}')
    el = page.locator('.qv-browser').first
    el.scroll_into_view_if_needed(); page.wait_for_timeout(500)
    page.screenshot(path=str(shots/'analysis.png'))
    # another class from the dropdown: the stats must follow
    code = opts[3].split()[0]   # option labels use non-breaking spaces
    page.select_option('.qv-browser .qv-cls select', index=3)
    page.wait_for_function("c => document.querySelector('.qv-browser .qv-stats').innerText.startsWith(c)", arg=code, timeout=timeout_ms)
    print(f'class changed in the browser -> stats now: {stats().splitlines()[0]!r}')
    # the threshold through the slider's readout: the stats must follow
    src = lambda k: page.get_attribute(f'img.{k}', 'src')
    pr0 = src('qv-pr')
    ro = page.locator('.qv-browser .qv-thresh .widget-readout').first
    ro.click(); page.keyboard.press('Control+A'); page.keyboard.type('0.25'); page.keyboard.press('Enter')
    page.wait_for_function("() => document.querySelector('.qv-browser .qv-stats').innerText.includes('at 0.25')", timeout=timeout_ms)
    print(f'threshold moved to 0.25 in the browser -> {stats().splitlines()[1]!r}')
    page.wait_for_function("a => document.querySelector('img.qv-pr').src != a", arg=pr0, timeout=timeout_ms)
    print('PR curve redrawn for the new threshold')
    # Grad-CAM on the first false positive: a round trip through the kernel and torch
    page.locator('.qv-browser .qv-fp button', has_text='CAM').first.click()
    page.wait_for_function("() => document.querySelector('.qv-browser .qv-sal-text').innerText.startsWith('Grad-CAM of')", timeout=timeout_ms)
    page.wait_for_function("() => { const i = document.querySelector('.qv-browser .qv-sal img, img.qv-sal'); return i && i.naturalWidth > 0; }", timeout=timeout_ms)
    print(f"saliency shown: {page.inner_text('.qv-browser .qv-sal-text')!r}")
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots/'analysis_driven.png'))
    el.screenshot(path=str(shots/'analysis_widget.png'))
    for i, name in [(1, 'cooc'), (2, 'folds')]:   # the other tabs render their figures too
        page.locator('.qv-browser .lm-TabBar-tab').nth(i).click()
        page.wait_for_function("k => { const i = document.querySelector('img.' + k); return i && i.naturalWidth > 100 && i.offsetParent; }",
                               arg=f'qv-{name}', timeout=timeout_ms)
        page.locator(f'img.qv-{name}').screenshot(path=str(shots/f'analysis_{name}.png'))
    print('co-occurrence and folds tabs rendered')
    check_escaped(page, 'error browser')
    if stats() == s0: raise Failure('the stats did not change after changing class and threshold')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'), help='Chromium executable')
    ap.add_argument('--out', default=str(ROOT/'reports'/'browser'), help='folder for the screenshots')
    ap.add_argument('--timeout', type=int, default=120, help='seconds to wait for each step in the page')
    a = ap.parse_args()
    chromium = need_browser(a.chromium)
    from playwright.sync_api import Error as PWError
    shots = Path(a.out); shots.mkdir(parents=True, exist_ok=True)
    (shots/'failure.png').unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='qv-browser-')); (tmp/'nb').mkdir()
    write_demo(tmp/'nb'/'analysis_demo.ipynb')
    port, token, proc = free_port(), secrets.token_hex(16), None
    log = open(tmp/'lab.log', 'w')
    t0 = time.time()
    try:
        proc = start_lab(tmp, port, token, log)
        wait_ready(proc, port, token)
        print(f'JupyterLab up on 127.0.0.1:{port} after {time.time()-t0:.1f} s')
        with browser_page(chromium, shots) as rp:
            rp.goto(write_report_page(tmp/'report').as_uri(), timeout=a.timeout*1000)
            check_escaped(rp, 'report page'); rp.screenshot(path=str(shots/'report.png'), full_page=False)
        with browser_page(chromium, shots, viewport=dict(width=1400, height=1700)) as page:
            page.goto(f'http://127.0.0.1:{port}/lab/tree/analysis_demo.ipynb?token={token}', timeout=a.timeout*1000)
            check(page, shots, a.timeout*1000)
        print(f'browser-check passed in {time.time()-t0:.0f} s; screenshots in {shots}/ (analysis.png: the widget as first rendered)')
        return 0
    except (Failure, PWError) as e: log.flush(); return failed('browser-check', e, tmp/'lab.log', 'JupyterLab')
    finally:
        stop(proc); log.close()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': sys.exit(main())
