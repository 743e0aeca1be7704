"""Build the docs site and check it (`make docs`).

With `quarto` on PATH: run nbdev's `nbdev_docs` (site in `_docs/`), then the checks below on `_docs/`.
Without Quarto (our build machines): build a static HTML site in `_site/` from nbdev's processed notebooks:
  1. every notebook in nbs/ goes through nbdev's own notebook processors (`nbdev.processors.FilterDefaults`, the ones
     `nbdev_docs` runs): front matter from the `# Title` cell, `show_doc` cells added after exported definitions,
     directives applied, `#|hide` / `#|export` cells removed, links to symbols added. The only change: the processor
     that executes cells runs every cell (not only the ones `show_doc` needs), in order, skipping cells marked with
     a test flag of settings.ini (slow, cuda, notest) or `#|eval: false`, so the examples show their output too.
     The processed notebooks go to `_proc/` (cached by content; `--force` re-runs them).
  2. nbconvert's HTMLExporter (JupyterLab template) renders each one, with a header, the left sidebar of
     `_quarto.yml` and relative links (nbdev's absolute doc links are rewritten; heading ids follow pandoc's rules,
     as Quarto's do, so `core.html#load_labels` links work).
Checks (both builds): every sidebar page exists; every internal link, anchor and image resolves; every exported symbol
(`__all__` of each module in `qvpipe_nb._modidx`) is documented: functions and classes by show_doc output with their
signature, other names by a mention on their page; symbols without an example after them and parameters without a
docment are listed (`--strict` makes missing examples an error). Each notebook is also processed the way a bare
`nbdev_docs` processes it (show_doc cells only, in a fresh interpreter) and the notebooks on which that raises are
listed (with `--strict`, an error). Then headless Chromium (Debian's chromium through playwright) loads every page
from a localhost server and fails on console errors, failed requests, images that do not load and broken links; it
saves screenshots to reports/docs/ (index.png and core.png). Without chromium or playwright that step is skipped, said so (a failure when QV_REQUIRE_BROWSER=1, as in CI).

Usage: python tools/docs.py [--force | --reuse] [--no-exec] [--no-browser] [--strict] [--static] [--workers N]
"""
from __future__ import annotations
import argparse, hashlib, html, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']
CACHE_VERSION = '1'
NB_TIMEOUT = int(os.environ.get('DOCS_NB_TIMEOUT', 1800))   # seconds per notebook and mode

def log(*a): print(*a, flush=True)

# ---------------------------------------------------------------------------------------------------------------------
# Configuration: settings.ini (through nbdev) and _quarto.yml

def nbdev_cfg():
    from nbdev.config import get_config
    return get_config(path=ROOT)

def read_quarto(path=ROOT/'_quarto.yml'):
    import yaml
    return yaml.safe_load(Path(path).read_text()) or {}

def sidebar_tree(qy:dict)->list:
    "The sidebar of `_quarto.yml` as a list of ('page', nb_relpath, text) and ('section', title, [children])."
    def _item(o):
        if isinstance(o, str): return ('page', o, None)
        if isinstance(o, dict):
            if 'section' in o: return ('section', str(o['section']), [_item(c) for c in o.get('contents', []) or []])
            if 'href' in o: return ('page', o['href'], o.get('text'))
            if 'auto' in o: return ('auto', o['auto'], None)
        raise ValueError(f'_quarto.yml: sidebar entry not understood: {o!r}')
    sb = (qy.get('website') or {}).get('sidebar') or {}
    if isinstance(sb, list): sb = sb[0] if sb else {}
    return [_item(o) for o in sb.get('contents', []) or []]

def sidebar_pages(tree)->list:
    "Notebook paths (relative to nbs/) named in the sidebar, in order."
    res = []
    for kind, a, b in tree:
        if kind == 'page': res.append(a)
        elif kind == 'section': res += sidebar_pages(b)
    return res

def html_name(rel:str)->str:
    "Output path of a notebook as nbdev/Quarto name it: '00_core.ipynb' -> 'core.html', keeping folders."
    from nbdev.doclinks import _nbpath2html
    if not rel.endswith('.ipynb'): return rel
    return Path(_nbpath2html(Path(rel))).as_posix()

def all_notebooks(nbs:Path)->list:
    "Notebooks nbdev would render: nbs/**/*.ipynb, skipping names and folders that start with '_' or '.'."
    from nbdev.doclinks import nbglob
    return sorted(Path(f).relative_to(nbs).as_posix() for f in nbglob(nbs, as_path=True))

# ---------------------------------------------------------------------------------------------------------------------
# Step 1: nbdev's processors, with every cell executed

def _skip_flags():
    return set(nbdev_cfg().get('tst_flags', '').split())

def make_filter(execute:bool=True, skip_flags=None):
    "nbdev's `FilterDefaults` whose execution step runs every cell (`execute=True`) or only what show_doc needs."
    from nbdev.processors import FilterDefaults, exec_show_docs
    flags = set(_skip_flags() if skip_flags is None else skip_flags)

    class exec_all_cells(exec_show_docs):
        "Execute every code cell in order (tests included), skipping flagged and `eval: false` cells."
        def __call__(self, cell):
            if not hasattr(self, 'k') or cell.cell_type != 'code' or not (cell.source or '').strip(): return
            if 'nbdev_export'+'(' in cell.source: return
            d = getattr(cell, 'directives_', {}) or {}
            if d.get('eval:', [''])[0].lower() == 'false' or flags & d.keys(): return
            self.k.cell(cell)
            if self.k.exc:
                e = self.k.exc
                raise RuntimeError(f"cell {cell.idx_} raised {type(e).__name__}: {e}\n--- cell source ---\n{cell.source}") from e

    class Filter(FilterDefaults):
        def base_procs(self):
            procs = super().base_procs()
            return [exec_all_cells if (execute and p is exec_show_docs) else p for p in procs]
    return Filter()

def process_nb(src:Path, execute:bool=True):
    "Read notebook `src`, run nbdev's processors on it (executing in its folder) and return the processed notebook."
    from execnb.nbio import read_nb
    from fastcore.xtras import working_directory
    src = Path(src).absolute()
    nb = read_nb(src)
    old = os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    try:
        with working_directory(src.parent): make_filter(execute)(nb)
    finally:
        if old is None: os.environ.pop('IN_TEST', None)
        else: os.environ['IN_TEST'] = old
    return nb

def _err(e)->str:
    cause = f'{type(e.__cause__).__name__}: {e.__cause__}' if e.__cause__ else ''
    return f'{e}\n{cause}'.strip()

def _proc_worker(src:str, dst:str, mode:str):
    """Process one notebook. mode 'exec': every cell executed (falling back to show_doc-only output on an error),
    written to `dst`; 'docs': show_doc-only, written; 'compat': show_doc-only as a bare `nbdev_docs` does it, to see
    whether it raises (nothing written). Each mode runs in its own interpreter: two shells in one process confuse
    matplotlib's IPython hooks."""
    import warnings
    warnings.filterwarnings('ignore', category=UserWarning)
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    os.environ.setdefault('MPLBACKEND', 'Agg')
    from execnb.nbio import write_nb
    t0, nb, err = time.time(), None, None
    try: nb = process_nb(Path(src), execute=(mode == 'exec'))
    except Exception as e:
        err = _err(e)
        if mode == 'exec':
            try: nb = process_nb(Path(src), execute=False)
            except Exception: pass
    if nb is not None and mode != 'compat':
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(dst).with_suffix('.tmp')
        write_nb(nb, tmp); os.replace(tmp, dst)
    return src, err is None, err, time.time()-t0

def _pkg_digest()->str:
    "Hash of what notebook outputs depend on besides the notebook: the package and settings (CACHE_VERSION: this script)."
    h = hashlib.sha256(CACHE_VERSION.encode())
    cfg = nbdev_cfg()
    for p in sorted(Path(cfg.lib_path).rglob('*.py')) + [ROOT/'settings.ini']:
        h.update(str(p.relative_to(ROOT)).encode()); h.update(p.read_bytes())
    return h.hexdigest()

def _run_one(src:Path, dst:Path, mode:str):
    cmd = [sys.executable, str(Path(__file__).resolve()), '--proc-one', str(src), str(dst), mode]
    env = dict(os.environ, PYTHONWARNINGS='ignore::UserWarning')
    t0 = time.time()
    try: r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=NB_TIMEOUT)
    except subprocess.TimeoutExpired: return False, f'{mode}: no result after {NB_TIMEOUT} s (stopped)', time.time()-t0
    res = [l for l in r.stdout.splitlines() if l.startswith('QVDOCS_RESULT ')]
    if r.returncode or not res: return False, f'worker exited {r.returncode}:\n{(r.stderr or r.stdout)[-3000:]}', time.time()-t0
    d = json.loads(res[-1][len('QVDOCS_RESULT '):])
    return d['ok'], d['error'], d['seconds']

def _run_worker(src:Path, dst:Path, execute:bool, compat:bool=True):
    "Process one notebook in fresh interpreters (as nbdev_test runs notebooks): the build, then the nbdev_docs check."
    ok, err, secs = _run_one(src, dst, 'exec' if execute else 'docs')
    cerr = None
    if compat and execute:
        cok, cerr, csecs = _run_one(src, dst, 'compat')
        secs += csecs
    elif not ok: cerr = err
    return ok, err, cerr, secs

def prepare_proc(nbs:Path, proc:Path, rels:list, execute=True, force=False, workers=2, reuse=False)->dict:
    "Process notebooks `rels` (relative to `nbs`) into `proc`, re-using results whose inputs did not change."
    from concurrent.futures import ThreadPoolExecutor, as_completed
    proc.mkdir(parents=True, exist_ok=True)
    meta_p = proc/'.qvdocs.json'
    meta = json.loads(meta_p.read_text()) if meta_p.exists() and not force else {}
    pkg = _pkg_digest()
    todo, status = [], {}
    for rel in rels:
        key = hashlib.sha256((pkg + str(execute)).encode() + (nbs/rel).read_bytes()).hexdigest()
        m = meta.get(rel)
        if m and (m.get('key') == key or (reuse and m.get('ok'))) and (proc/rel).exists(): status[rel] = m | {'cached': True}
        else: todo.append((rel, key))
    if todo:
        log(f"processing {len(todo)} notebook(s) with nbdev's processors ({'all cells executed' if execute else 'show_doc only'}), {workers} at a time...")
        with ThreadPoolExecutor(max_workers=max(1, workers)) as ex:
            futs = {ex.submit(_run_worker, nbs/rel, proc/rel, execute): (rel, key) for rel, key in todo}
            for fut in as_completed(futs):
                rel, key = futs[fut]
                ok, err, cerr, secs = fut.result()
                status[rel] = dict(key=key if ok else None, ok=ok, error=err, compat_error=cerr, seconds=round(secs, 1))
                log(f"  {'ok  ' if ok else 'FAIL'} {rel} ({secs:.0f}s)" + ('' if ok else f"\n{_indent(err)}")
                    + (f"\n      note: a bare nbdev_docs would fail on this notebook (see the report)" if cerr else ''))
                meta[rel] = status[rel]
                meta_p.write_text(json.dumps(meta, indent=1, sort_keys=True))
    proc.touch()
    return status

def _indent(s, n=6): return '\n'.join(' '*n + l for l in str(s).splitlines()[-25:])

# ---------------------------------------------------------------------------------------------------------------------
# Step 2: processed notebook -> HTML page

_DIR_RE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def split_directives(src:str):
    "Quarto cell options left by nbdev (`#| echo: false`) -> (dict, source without them)."
    lines, opts = src.splitlines(), {}
    i = 0
    while i < len(lines) and (m := _DIR_RE.match(lines[i])):
        opts[m.group(1)] = m.group(2).strip('"\'')
        i += 1
    return opts, '\n'.join(lines[i:])

def frontmatter(nb)->dict:
    import yaml
    c = nb.cells[0] if nb.cells else None
    if c is not None and c.cell_type == 'raw':
        s = ''.join(c.source).strip()
        if s.startswith('---'):
            try: return yaml.safe_load(s.strip('-\n ')) or {}
            except Exception: return {}
    return {}

_CALLOUT_RE = re.compile(r'^:::+\s*\{\s*\.callout-(\w+)[^}]*\}\s*$', re.M)
_FENCE_END_RE = re.compile(r'^:::+\s*$', re.M)
_LINK_ATTR_RE = re.compile(r'(?<!!)\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')
_ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"|\.([\w-]+)|#([\w-]+)')

def _attr_link(m):
    "A link with pandoc attributes ([text](url) followed by {k=\"v\" .cls}) -> an HTML <a> with those attributes."
    attrs, cls = {'href': m.group(2)}, []
    for k, v, c, i in _ATTR_RE.findall(m.group(3)):
        if k: attrs[k] = v
        elif c: cls.append(c)
        elif i: attrs['id'] = i
    if cls: attrs['class'] = ' '.join(cls)
    a = ' '.join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return f'<a {a}>{html.escape(m.group(1), quote=False)}</a>'

def pandoc2md(s:str)->str:
    "Turn the pandoc-only markdown nbdev and Quarto authors use into plain CommonMark + HTML."
    s = _LINK_ATTR_RE.sub(_attr_link, s)                               # [source](url){target="_blank" style=...}
    s = _CALLOUT_RE.sub(lambda m: f'\n<div class="callout callout-{m.group(1)}">\n', s)
    s = _FENCE_END_RE.sub('\n</div>\n', s)
    return s

def pandoc_id(text:str)->str:
    "Heading identifier by pandoc's rule (what Quarto, and so nbdev's doc links, use)."
    t = re.sub(r'[^\w\s.-]', '', text)
    t = re.sub(r'\s+', '-', t.strip()).lower()
    t = re.sub(r'^[^a-z]+', '', t)
    return t or 'section'

def prepare_nb_for_html(nb):
    "Apply the Quarto cell options to a processed notebook (an nbformat node, changed in place) and return it."
    if nb.cells and nb.cells[0].cell_type == 'raw' and ''.join(nb.cells[0].source).lstrip().startswith('---'): nb.cells.pop(0)
    nb.metadata.pop('widgets', None)                     # offline site: no widget manager from a CDN
    cells = []
    for c in nb.cells:
        src = ''.join(c.source) if isinstance(c.source, list) else c.source
        if c.cell_type == 'markdown':
            c.source = pandoc2md(src)
            if '<!-- WARNING: THIS FILE WAS AUTOGENERATED' in c.source and not c.source.replace(c.source.strip(), '').strip() and c.source.strip().startswith('<!--'): continue
        elif c.cell_type == 'code':
            opts, src = split_directives(src)
            if str(opts.get('include', 'true')).lower() == 'false': continue
            c.source = src
            tags = set(c.metadata.get('tags', []))
            if str(opts.get('echo', 'true')).lower() == 'false' or not src.strip(): tags.add('qv_remove_input')
            if str(opts.get('output', 'true')).lower() == 'false': tags.add('qv_remove_output')
            if 'code-fold' in opts: tags.add('qv_fold')
            c.metadata['tags'] = sorted(tags)
            for o in c.get('outputs', []):
                if o.get('output_type') in ('execute_result', 'display_data') and 'text/markdown' in o.get('data', {}):
                    md = o['data']['text/markdown']
                    o['data']['text/markdown'] = pandoc2md(''.join(md) if isinstance(md, list) else md)
            if not src.strip() and not c.get('outputs'): continue
        cells.append(c)
    nb.cells = cells
    return nb

SITE_CSS = r"""
:root { --qv-header-h: 52px; --qv-side-w: 250px; --qv-accent: #2c5d8f; }
html, body { margin: 0; padding: 0; }
body.qv-site { background: #fff; }
.qv-header { position: fixed; top: 0; left: 0; right: 0; height: var(--qv-header-h); z-index: 10; display: flex;
  align-items: center; gap: 1.2rem; padding: 0 1.2rem; background: var(--qv-accent); color: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
.qv-header a { color: #fff; text-decoration: none; }
.qv-header .qv-brand { font-weight: 600; font-size: 1.15rem; }
.qv-header .qv-tagline { opacity: .8; font-size: .85rem; flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.qv-header .qv-repo { font-size: .9rem; border: 1px solid rgba(255,255,255,.5); border-radius: 4px; padding: .2rem .6rem; }
.qv-sidebar { position: fixed; top: var(--qv-header-h); bottom: 0; left: 0; width: var(--qv-side-w); overflow-y: auto;
  padding: 1rem .8rem 2rem 1rem; box-sizing: border-box; border-right: 1px solid #e3e3e3; background: #fafafa;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: .9rem; }
.qv-sidebar ul { list-style: none; margin: 0; padding: 0; }
.qv-sidebar li { margin: .1rem 0; }
.qv-sidebar a { display: block; padding: .2rem .5rem; border-radius: 4px; color: #333; text-decoration: none; }
.qv-sidebar a:hover { background: #eaeef3; }
.qv-sidebar a.active { background: var(--qv-accent); color: #fff; }
.qv-sidebar .qv-section { margin-top: .9rem; font-weight: 600; color: #555; text-transform: uppercase; font-size: .75rem;
  letter-spacing: .05em; padding: 0 .5rem .2rem; }
.qv-sidebar .qv-missing { display: block; padding: .2rem .5rem; color: #b00; font-style: italic; }
main.qv-main { margin: var(--qv-header-h) 0 0 var(--qv-side-w); padding: 1.5rem 2.5rem 3rem; max-width: 1100px; box-sizing: border-box; }
.qv-title { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body.qv-site .jp-RenderedHTMLCommon pre, body.qv-site .jp-RenderedMarkdown .highlight { background: #f6f8fa; padding: .6rem .8rem;
  border-radius: 4px; white-space: pre; overflow-x: auto; }
body.qv-site .jp-RenderedMarkdown .highlight pre { padding: 0; margin: 0; background: none; }
body.qv-site .jp-RenderedHTMLCommon pre code { white-space: pre; background: none; padding: 0; }
.jp-OutputArea-output.jp-RenderedHTMLCommon hr + p a[style], .jp-RenderedHTMLCommon a[target="_blank"][style] { font-size: .8rem; }
.qv-title h1 { margin: 0 0 .3rem; font-size: 2.1rem; }
.qv-title .qv-description { font-style: italic; font-size: 1.15rem; opacity: .75; margin: 0 0 1.4rem; }
.qv-footer { margin-top: 3rem; padding-top: .8rem; border-top: 1px solid #e3e3e3; font-size: .8rem; color: #777; }
.jp-Cell { padding-left: 0; padding-right: 0; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.jp-OutputArea-output h3 { margin-top: .4rem; }
.jp-OutputArea-output hr { border: 0; border-top: 1px solid #ddd; margin: 1.5rem 0 .5rem; }
.jp-RenderedHTMLCommon table { font-size: .85rem; }
.callout { border-left: 4px solid var(--qv-accent); background: #f3f7fb; padding: .5rem 1rem; margin: 1rem 0; }
.callout-warning, .callout-caution { border-color: #d08a00; background: #fdf7ea; }
.callout-important { border-color: #c0392b; background: #fcefee; }
details.qv-fold > summary { cursor: pointer; color: #555; font-size: .85rem; margin: .3rem 0; }
@media (max-width: 800px) { .qv-sidebar { display: none; } main.qv-main { margin-left: 0; padding: 1rem; } }
"""

TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<link rel="icon" href="data:,">
<meta name="generator" content="qvpipe_nb tools/docs.py (nbdev processors + nbconvert)">
<style type="text/css">{{ resources.qv.css }}</style>
{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook qv-site" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="qv-header">
  <a class="qv-brand" href="{{ resources.qv.home }}">{{ resources.qv.site_title | e }}</a>
  <span class="qv-tagline">{{ resources.qv.site_description | e }}</span>
  {% if resources.qv.repo_url %}<a class="qv-repo" href="{{ resources.qv.repo_url }}">GitHub</a>{% endif %}
</header>
<nav class="qv-sidebar" aria-label="Site">{{ resources.qv.sidebar }}</nav>
<main class="qv-main">
<div class="qv-title">
  <h1 class="title">{{ resources.qv.title | e }}</h1>
  {% if resources.qv.description %}<p class="qv-description">{{ resources.qv.description | e }}</p>{% endif %}
</div>
{%- endblock body_header -%}
{% block input_group -%}
{%- if 'qv_fold' in cell.metadata.get('tags', []) -%}
<details class="qv-fold"><summary>Exported source</summary>{{ super() }}</details>
{%- else -%}{{ super() }}{%- endif -%}
{% endblock input_group %}
{% block body_footer %}
<footer class="qv-footer">Built from the notebooks in <code>nbs/</code> by <code>tools/docs.py</code>
(nbdev {{ resources.qv.nbdev_version }} processors, nbconvert {{ resources.qv.nbconvert_version }}; static build without Quarto).</footer>
</main>
</body>
{% endblock body_footer %}
"""

def make_exporter():
    import jinja2
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {'qv_remove_input'}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {'qv_remove_output'}
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = False    # (its inline-HTML path breaks <a ...>text</a>; images are embedded in postprocess_html)
    return HTMLExporter(config=c, template_name='lab', template_file='qvsite.html.j2',
                        extra_loaders=[jinja2.DictLoader({'qvsite.html.j2': TEMPLATE})])

def render_sidebar(tree, titles:dict, present:set, cur_html:str)->str:
    "HTML of the sidebar for the page `cur_html` (links relative to it)."
    up = '../' * cur_html.count('/')
    def _items(items):
        out = []
        for kind, a, b in items:
            if kind == 'page':
                h = html_name(a)
                text = html.escape(b or titles.get(a) or Path(h).stem)
                if a in present:
                    cls = ' class="active" aria-current="page"' if h == cur_html else ''
                    out.append(f'<li><a href="{up}{h}"{cls}>{text}</a></li>')
                else: out.append(f'<li><span class="qv-missing" title="{html.escape(a)} does not exist yet">{text} (missing)</span></li>')
            elif kind == 'section':
                out.append(f'<li><div class="qv-section">{html.escape(a)}</div><ul>{"".join(_items(b))}</ul></li>')
        return out
    return '<ul>' + ''.join(_items(tree)) + '</ul>'

_IMG_MIME = {'.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.webp': 'image/webp'}

def postprocess_html(s:str, cur_html:str, doc_base:str, nb_pages:dict, nb_dir:Path=None)->str:
    """Pandoc-style heading ids; relative links (nbdev's absolute doc links and `x.ipynb` links -> pages of this site);
    local images of markdown cells embedded as data URIs (a missing one is left as is, for the checks to report)."""
    import base64
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(s, 'html.parser')
    if nb_dir is not None:
        for img in soup.find_all('img', src=True):
            src = img['src']
            if re.match(r'^(?:[a-z][a-z0-9+.-]*:|//)', src, re.I): continue
            f = (nb_dir/src.split('#')[0].split('?')[0])
            if f.is_file() and f.suffix.lower() in _IMG_MIME:
                img['src'] = f'data:{_IMG_MIME[f.suffix.lower()]};base64,' + base64.b64encode(f.read_bytes()).decode()
    up = '../' * cur_html.count('/')
    main = soup.find('main') or soup
    seen, remap = {}, {}
    for h in main.find_all(re.compile(r'^h[1-6]$')):
        if 'title' in (h.get('class') or []): continue
        for a in h.find_all('a', class_='anchor-link'): a.extract()
        base = pandoc_id(h.get_text(' ', strip=True))
        n = seen.get(base, 0); seen[base] = n + 1
        new = base if n == 0 else f'{base}-{n}'
        if h.get('id'): remap[h['id']] = new
        h['id'] = new
        a = soup.new_tag('a', attrs={'class': 'anchor-link', 'href': f'#{new}'}); a.string = '¶'
        h.append(a)
    cur_dir = Path(cur_html).parent
    for a in soup.find_all('a', href=True):
        href = a['href']
        if doc_base and href.startswith(doc_base):
            target, _, frag = href[len(doc_base):].partition('#')
            target = target or 'index.html'
            if target.endswith('/'): target += 'index.html'
            href = up + target + (f'#{frag}' if frag else '')
        elif not re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', href, re.I):
            path, _, frag = href.partition('#')
            if path.endswith('.ipynb'):
                rel = (cur_dir/path).as_posix()
                href = os.path.relpath(html_name(os.path.normpath(rel)), cur_dir.as_posix() or '.') + (f'#{frag}' if frag else '')
        elif href.startswith('#') and href[1:] in remap: href = '#' + remap[href[1:]]
        a['href'] = href
    return str(soup)

def build_static_site(nbs:Path, proc:Path, site:Path, rels:list, tree, qy:dict)->dict:
    "Render processed notebooks `rels` from `proc` to `site`. Returns {rel: html path}."
    import nbformat, nbconvert, nbdev
    cfg = nbdev_cfg()
    web = qy.get('website') or {}
    doc_base = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/'
    if site.exists(): shutil.rmtree(site)
    site.mkdir(parents=True)
    nbs_json = {rel: nbformat.reads((proc/rel).read_text(encoding='utf-8'), as_version=4) for rel in rels if (proc/rel).exists()}
    fms = {rel: frontmatter(j) for rel, j in nbs_json.items()}
    titles = {rel: fm.get('title') for rel, fm in fms.items()}
    pages, exporter = {}, make_exporter()
    for rel, j in nbs_json.items():
        fm = fms[rel]
        h = (Path(rel).parent/fm['output-file']).as_posix() if fm.get('output-file') else html_name(rel)
        if h.startswith('./'): h = h[2:]
        pages[rel] = h
    for rel, j in nbs_json.items():
        h, fm = pages[rel], fms[rel]
        nb = prepare_nb_for_html(j)
        up = '../' * h.count('/')
        res = {'metadata': {'name': fm.get('title') or Path(h).stem, 'path': str((nbs/rel).parent)},
               'qv': dict(css=SITE_CSS, home=f'{up}index.html', site_title=web.get('title', cfg.get('title', '')),
                          site_description=web.get('description', cfg.get('description', '')),
                          repo_url=web.get('repo-url', cfg.get('git_url', '')), title=fm.get('title') or Path(h).stem,
                          description=fm.get('description', ''), sidebar=render_sidebar(tree, titles, set(nbs_json), h),
                          nbdev_version=nbdev.__version__, nbconvert_version=nbconvert.__version__)}
        body, _ = exporter.from_notebook_node(nb, resources=res)
        body = postprocess_html(body, h, doc_base, pages, (nbs/rel).parent)
        out = site/h
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding='utf-8')
    (site/'.nojekyll').touch()
    return pages

# ---------------------------------------------------------------------------------------------------------------------
# Checks

def _page_facts_static(site:Path)->dict:
    "For each html page of `site`: ids, links and images (site-relative, fragments split), read with BeautifulSoup."
    from bs4 import BeautifulSoup
    facts = {}
    for f in sorted(site.rglob('*.html')):
        rel = f.relative_to(site).as_posix()
        soup = BeautifulSoup(f.read_text(encoding='utf-8'), 'html.parser')
        ids = {e['id'] for e in soup.find_all(id=True)} | {e['name'] for e in soup.find_all('a', attrs={'name': True})}
        links = [a['href'] for a in soup.find_all('a', href=True)]
        imgs = [i.get('src', '') for i in soup.find_all('img')]
        facts[rel] = dict(ids=ids, links=[_resolve(rel, l) for l in links], imgs=[_resolve(rel, s) for s in imgs],
                          text=soup.get_text(' '), img_errors=[])
    return facts

def _resolve(page:str, href:str):
    "('internal', site path, fragment) / ('external', href, '') for a link on `page`."
    if re.match(r'^(?:[a-z][a-z0-9+.-]*:|//)', href, re.I):
        return ('data' if href.startswith('data:') else 'external', href, '')
    path, _, frag = href.partition('#')
    if not path: return ('internal', page, frag)
    if path.startswith('/'): target = path.lstrip('/')
    else: target = os.path.normpath(os.path.join(os.path.dirname(page), path)).replace(os.sep, '/')
    if target.endswith('/') or target == '.': target = (target.rstrip('/') + '/index.html').lstrip('./')
    return ('internal', target, frag)

def check_links(site:Path, facts:dict)->list:
    "Broken internal links, anchors and images as messages."
    errs = []
    for page, f in facts.items():
        for kind, target, frag in f['links']:
            if kind != 'internal': continue
            if target.startswith('..'): errs.append(f'{page}: link leaves the site: {target}'); continue
            p = site/target
            if p.is_dir(): p = p/'index.html'; target = f'{target}/index.html'
            if not p.exists(): errs.append(f'{page}: broken link -> {target}' + (f'#{frag}' if frag else '')); continue
            if frag and target.endswith('.html'):
                ids = facts.get(target, {}).get('ids')
                if ids is not None and frag not in ids: errs.append(f'{page}: broken anchor -> {target}#{frag}')
        for kind, target, _ in f['imgs']:
            if kind == 'internal' and not (site/target).exists(): errs.append(f'{page}: missing image {target}')
        for e in f.get('img_errors', []): errs.append(f'{page}: image does not load: {e[:120]}')
    return sorted(set(errs))

def check_symbols(proc:Path, pages:dict, facts:dict)->tuple:
    "Exported symbols: (missing docs, without example, params without docments, count)."
    import importlib, inspect
    sys.path.insert(0, str(ROOT))
    from qvpipe_nb._modidx import d as modidx
    by_html = {h: rel for rel, h in pages.items()}
    missing, no_example, no_docments, n = [], [], [], 0
    for mod, syms in sorted(modidx['syms'].items()):
        page = next((v[0].partition('#')[0] for v in syms.values()), None)
        try: m = importlib.import_module(mod)
        except Exception as e: missing.append(f'{mod}: cannot import ({type(e).__name__}: {e})'); continue
        names = list(getattr(m, '__all__', []))
        rel = by_html.get(page)
        if rel is None or not (proc/rel).exists():
            missing += [f'{mod}.{nm}: no page {page}' for nm in names]; n += len(names); continue
        cells = json.loads((proc/rel).read_text())['cells']
        codes = [(i, ''.join(c['source'])) for i, c in enumerate(cells) if c['cell_type'] == 'code']
        ids, text = facts.get(page, {}).get('ids', set()), facts.get(page, {}).get('text', '')
        for nm in names:
            n += 1
            obj = getattr(m, nm, None)
            documentable = inspect.isclass(obj) or inspect.isroutine(obj)
            word = re.compile(rf'(?<![\w.]){re.escape(nm)}\b')
            sd = [(i, c) for i, c in codes if re.search(rf'show_doc\(\s*{re.escape(nm)}\s*[,)]', c)]
            if documentable:
                ok_nb = False
                for i, _ in sd:
                    md = ''.join(''.join(o.get('data', {}).get('text/markdown', '')) for o in cells[i].get('outputs', []))
                    if re.search(rf'^#+ {re.escape(nm)}\s*$', md, re.M) and '```' in md and nm in md.split('```')[1]: ok_nb = True
                if not ok_nb: missing.append(f'{mod}.{nm}: no show_doc output with its signature on {page}'); continue
                if ids and pandoc_id(nm) not in ids: missing.append(f'{mod}.{nm}: no #{pandoc_id(nm)} heading on {page}'); continue
                start = sd[0][0]
            else:
                if nm not in text: missing.append(f'{mod}.{nm}: not mentioned on {page}'); continue
                start = -1
            after = [c for i, c in codes if i > start and not c.lstrip().startswith(('#| echo: false\n#| output: asis\nshow_doc', 'show_doc'))
                     and '#| echo: false' not in c and word.search(c)]
            if not after: no_example.append(f'{mod}.{nm}')
            if documentable and inspect.isroutine(obj):
                try:
                    from fastcore.docments import docments
                    dm = docments(obj, full=True)
                    star = {q.name for q in inspect.signature(obj).parameters.values() if q.kind in (q.VAR_POSITIONAL, q.VAR_KEYWORD)}
                    bad = [p for p, v in dm.items() if p not in ('self', 'return', 'cls', *star) and not v.get('docment')]
                    if bad: no_docments.append(f'{mod}.{nm}({", ".join(bad)})')
                except Exception: pass
    return missing, no_example, no_docments, n

# ---------------------------------------------------------------------------------------------------------------------
# Real browser

def browser_check(site:Path, pages:list, shots:dict, facts:dict):
    "Load every page in headless Chromium. Returns (errors, facts from the DOM) or (None, reason) when skipped."
    from qvpipe_nb.core import QVError, need_extra
    try: sync_playwright = need_extra('playwright.sync_api', 'the docs browser check').sync_playwright
    except QVError as e: return None, f'{e} (or make browser-deps)'
    cands = [os.environ['DOCS_CHROMIUM']] if os.environ.get('DOCS_CHROMIUM') else \
            ['/usr/bin/chromium', shutil.which('chromium') or '', shutil.which('chromium-browser') or '']
    exe = next((p for p in cands if p and Path(p).exists()), None)
    if not exe: return None, f'chromium not found ({", ".join(p for p in cands if p)}; apt-get install chromium)'
    from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
    from functools import partial
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = ThreadingHTTPServer(('127.0.0.1', 0), partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}/'
    errs, dom = [], {}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
            ctx = b.new_context(viewport={'width': 1280, 'height': 900})
            for h in pages:
                pg = ctx.new_page()
                perrs = []
                pg.on('console', lambda m, perrs=perrs: perrs.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
                pg.on('pageerror', lambda e, perrs=perrs: perrs.append(f'page error: {e}'))
                pg.on('requestfailed', lambda r, perrs=perrs: perrs.append(f'request failed: {r.url} ({r.failure})'))
                pg.on('response', lambda r, perrs=perrs: perrs.append(f'HTTP {r.status}: {r.url}') if r.status >= 400 else None)
                resp = pg.goto(base + h, wait_until='load')
                if resp is None or resp.status >= 400: errs.append(f'{h}: page does not load (HTTP {resp.status if resp else "?"})')
                pg.wait_for_timeout(50)
                info = pg.evaluate("""() => ({
                    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
                    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
                    imgs: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
                    title: document.title, text: document.body ? document.body.innerText : ''})""")
                def _rel(u):
                    if u.startswith(base):
                        path, _, frag = u[len(base):].partition('#')
                        path = path.split('?')[0] or 'index.html'
                        if path.endswith('/'): path += 'index.html'
                        return ('internal', path, frag)
                    return ('data' if u.startswith('data:') else 'external', u, '')
                dom[h] = dict(ids=set(info['ids']), links=[_rel(u) for u in info['links']],
                              imgs=[_rel(i['src']) for i in info['imgs']], text=info['text'],
                              img_errors=[i['src'] for i in info['imgs'] if not i['ok']])
                if not info['text'].strip(): perrs.append('page is empty')
                errs += [f'{h}: {e}' for e in perrs]
                if h in shots:
                    Path(shots[h]).parent.mkdir(parents=True, exist_ok=True)
                    pg.screenshot(path=str(shots[h]))
                pg.close()
            b.close()
    finally: srv.shutdown()
    return errs, dom

# ---------------------------------------------------------------------------------------------------------------------

def run_checks(site:Path, proc:Path, pages:dict, missing_pages:list, args, proc_status:dict)->int:
    "All checks on a built site; prints a report and returns the exit code."
    html_pages = sorted(f.relative_to(site).as_posix() for f in site.rglob('*.html'))
    facts = _page_facts_static(site)
    problems = [f'missing page: {m}' for m in missing_pages]
    problems += [f'notebook failed to execute: {rel}\n{_indent(s.get("error"))}' for rel, s in sorted(proc_status.items()) if not s.get('ok')]
    browser_note = 'skipped: --no-browser'
    if not args.no_browser:
        shots = {'index.html': ROOT/'reports/docs/index.png'}
        api = next((h for h in ('core.html', *html_pages) if h in html_pages and h != 'index.html'), None)
        if api: shots[api] = ROOT/'reports/docs'/(Path(api).stem + '.png')
        t0 = time.time()
        res, dom = browser_check(site, html_pages, shots, facts)
        if res is None:
            browser_note = f'SKIPPED: {dom}'; log(f'browser check skipped: {dom}')
            if os.environ.get('QV_REQUIRE_BROWSER') == '1': problems.append(f'browser required (QV_REQUIRE_BROWSER=1) but {dom}')
        else:
            problems += res
            facts = dom
            browser_note = f'{len(html_pages)} pages loaded in headless Chromium in {time.time()-t0:.0f}s; screenshots: ' + ', '.join(str(Path(p).relative_to(ROOT)) for p in shots.values())
    link_errs = check_links(site, facts)
    problems += link_errs
    n_links = sum(1 for f in facts.values() for k, *_ in f['links'] if k == 'internal')
    n_ext = sum(1 for f in facts.values() for k, *_ in f['links'] if k == 'external')
    missing, no_example, no_docments, n_sym = check_symbols(proc, pages, facts)
    problems += [f'undocumented export: {m}' for m in missing]
    if args.strict: problems += [f'export without an example: {m}' for m in no_example]
    log('')
    log(f'site: {site.relative_to(ROOT)}/  pages: {len(html_pages)}  internal links checked: {n_links}  external links (not checked): {n_ext}')
    log(f'browser: {browser_note}')
    log(f'exported symbols: {n_sym}, documented with signature: {n_sym-len(missing)}')
    if no_example: log(f'exports without an example or test after them ({len(no_example)}): ' + ', '.join(no_example))
    compat = {rel: st['compat_error'] for rel, st in sorted(proc_status.items()) if st.get('compat_error')}
    if compat:
        log(f'a bare `nbdev_docs` (Quarto, without the executed notebooks this script leaves in _proc/) would fail on '
            f'{len(compat)} notebook(s): nbdev executes every cell that contains an import, so a cell that mixes an import '
            'with code using earlier example variables raises. Move such imports to the imports cell:')
        for rel, e in compat.items():
            first = next((l for l in e.splitlines() if re.search(r'Error in notebook|in cell', l)), e.splitlines()[0])
            last = e.strip().splitlines()[-1]
            log(f'  - {rel}: {first.strip()} ... {last.strip()}')
        if args.strict: problems += [f'bare nbdev_docs would fail on {rel}' for rel in compat]
    if no_docments: log(f'parameters without a docment ({len(no_docments)}): ' + ', '.join(no_docments))
    if problems:
        log(f'\nFAILED: {len(problems)} problem(s):')
        for p in problems: log('  - ' + p)
        return 1
    log('docs OK')
    return 0

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--proc-one']:                      # internal: one notebook, called by _run_worker
        src, dst, execute = argv[1:4]   # execute: the mode
        _, ok, err, secs = _proc_worker(src, dst, execute)
        print('QVDOCS_RESULT ' + json.dumps(dict(ok=ok, error=err, seconds=secs)), flush=True)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--force', action='store_true', help='re-process every notebook (ignore the _proc/ cache)')
    ap.add_argument('--reuse', action='store_true', help='re-use processed notebooks in _proc/ even when the package changed since')
    ap.add_argument('--no-exec', action='store_true', help="execute only what show_doc needs (nbdev's default), not the examples")
    ap.add_argument('--no-browser', action='store_true', help='skip the headless-Chromium check')
    ap.add_argument('--strict', action='store_true', help='fail on exported symbols without an example')
    ap.add_argument('--static', action='store_true', help='build the static site even when quarto is on PATH')
    ap.add_argument('--workers', type=int, default=int(os.environ.get('DOCS_WORKERS', 2)))
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    cfg = nbdev_cfg()
    nbs, proc = Path(cfg.nbs_path), ROOT/'_proc'
    qy = read_quarto()
    tree = sidebar_tree(qy)
    wanted = sidebar_pages(tree)
    rels = all_notebooks(nbs)
    missing_pages = [p for p in wanted if p not in rels]
    extra = [r for r in rels if r not in wanted]
    if extra: log('note: notebooks not in the _quarto.yml sidebar (built, not linked): ' + ', '.join(extra))
    t0 = time.time()
    status = prepare_proc(nbs, proc, rels, execute=not args.no_exec, force=args.force, workers=args.workers, reuse=args.reuse)
    log(f'processed notebooks ready in _proc/ ({time.time()-t0:.0f}s)')
    if shutil.which('quarto') and not args.static:
        link = nbs/'_quarto.yml'
        if not link.exists(): link.symlink_to(os.path.relpath(ROOT/'_quarto.yml', nbs))
        log('quarto found: running nbdev_docs (it re-uses the executed notebooks in _proc/)')
        r = subprocess.run([str(Path(sys.executable).parent/'nbdev_docs')], cwd=ROOT)
        if r.returncode: log('nbdev_docs failed'); return r.returncode
        site = ROOT/cfg.doc_path.name
        pages = {rel: html_name(rel) for rel in rels}
    else:
        if not args.static: log('quarto not on PATH: building the static site with nbconvert instead')
        site = ROOT/'_site'
        t1 = time.time()
        pages = build_static_site(nbs, proc, site, rels, tree, qy)
        log(f'rendered {len(pages)} page(s) to {site.relative_to(ROOT)}/ ({time.time()-t1:.0f}s)')
    return run_checks(site, proc, pages, missing_pages, args, status)

if __name__ == '__main__': sys.exit(main())
