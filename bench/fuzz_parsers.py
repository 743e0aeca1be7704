"""Fuzzed parsers: generated malformed label JSON, submission JSON, folds CSV and YAML configs.

Each input is malformed by construction (a wrong type, a missing key, an unknown id, NaN/inf, a huge number, a
duplicate or case-duplicate name, a path for a name, an odd encoding, an empty file ...). The reader must end
in `QVError` with a message naming the file; accepting the input, or any other exception, is a failure.

    python bench/fuzz_parsers.py [--n 1000] [--seed 0] [--only labels predictions folds yaml]

Prints, per parser, how many inputs were tried and the share that ended in a clear error. Exit 1 otherwise.
"""
import argparse, json, sys, tempfile
from collections import Counter
from pathlib import Path
from hypothesis import given, settings, seed as hseed, strategies as st, HealthCheck
from qvpipe_nb.core import CLASSES, N_CLASSES, QVError, load_labels
from qvpipe_nb.metrics import load_predictions
from qvpipe_nb.splits import load_folds, FOLD_COLS

names = st.from_regex(r'[a-z0-9_]{1,8}\.mp4', fullmatch=True)
bad_names = st.sampled_from(['../../escaped.mp4', 'a/b.mp4', 'a\\b.mp4', '..', '.', '', ' ', 'a\nb.mp4', 'a\x00.mp4', '/etc/x.mp4', 'x' * 300])
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.integers(-10**30, 10**30))
bad_ids = st.one_of(st.integers(N_CLASSES, 10**40), st.integers(-10**40, -1), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none())
encodings = st.sampled_from(['utf-16', 'utf-32', 'cp1252-bytes', 'cut'])

def dumps(d:dict, dup:str|None=None)->str:
    "JSON text of `d` (NaN/Infinity allowed), with the key `dup` given twice when set."
    s = json.dumps(d, allow_nan=True)
    return s if dup is None else s[:-1] + (', ' if d else '') + f'{json.dumps(dup)}: {json.dumps(d.get(dup, [1]))}}}'

def encode(text:str, how:str)->bytes:
    if how == 'cp1252-bytes': return text.replace('.mp4', '\xe9.mp4', 1).encode('cp1252', 'replace') + b'\xe9\xff'
    if how == 'cut': return text.encode()[:max(1, len(text)//2)]
    return text.encode(how)

@st.composite
def label_files(draw)->bytes:
    "A malformed official label file."
    d = draw(st.dictionaries(names, st.lists(st.integers(1, N_CLASSES-1), min_size=1, max_size=3), min_size=1, max_size=4))
    k = next(iter(d))
    m = draw(st.sampled_from(['value', 'empty_list', 'bad_id', 'name', 'dup', 'case', 'top', 'empty', 'encoding', 'zc']))
    if m == 'value': d[k] = draw(junk.filter(lambda v: not isinstance(v, list)))
    elif m == 'empty_list': d[k] = []
    elif m == 'bad_id': d[k] = d[k] + [draw(bad_ids)]
    elif m == 'name': d[draw(bad_names)] = [1]
    elif m == 'dup': return dumps(d, k).encode()
    elif m == 'case': d[k.upper()] = [2]
    elif m == 'top': return json.dumps(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=4), st.none()))).encode()
    elif m == 'empty': return draw(st.sampled_from([b'', b' ', b'\n', b'{', b'[']))
    elif m == 'encoding': return encode(json.dumps(d), draw(encodings))
    elif m == 'zc': d[k] = [0, draw(st.integers(1, N_CLASSES-1))]
    return dumps(d).encode()

@st.composite
def prediction_files(draw)->tuple:
    "A malformed submission file, and the ground-truth names it must cover."
    gt = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    d = {v: [draw(st.floats(0, 1))]*N_CLASSES for v in gt}
    k = gt[0]
    m = draw(st.sampled_from(['length', 'nan', 'huge', 'type', 'value', 'missing', 'name', 'dup', 'case', 'top', 'empty', 'encoding']))
    if m == 'length': d[k] = d[k][:draw(st.sampled_from([0, 1, 16]))] if draw(st.booleans()) else d[k] + [0.5]
    elif m == 'nan': d[k] = d[k][:-1] + [draw(st.sampled_from([float('nan'), float('inf'), -float('inf')]))]
    elif m == 'huge': d[k] = d[k][:-1] + [draw(st.integers(2**1024, 10**400))]
    elif m == 'type': d[k] = d[k][:-1] + [draw(st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)))]
    elif m == 'value': d[k] = draw(junk)
    elif m == 'missing': del d[k]
    elif m == 'name': d[draw(bad_names)] = [0.5]*N_CLASSES
    elif m == 'dup': return dumps(d, k).encode(), gt
    elif m == 'case': d[k.upper()] = [0.5]*N_CLASSES
    elif m == 'top': return json.dumps(draw(st.one_of(st.lists(st.floats(0, 1), max_size=3), st.floats(0, 1), st.none()))).encode(), gt
    elif m == 'empty': return draw(st.sampled_from([b'', b'\n', b'{"a.mp4": ['])), gt
    elif m == 'encoding': return encode(json.dumps(d), draw(encodings)), gt
    return dumps(d).encode(), gt

@st.composite
def folds_files(draw)->bytes:
    "A malformed folds CSV."
    import pandas as pd
    vids = draw(st.lists(names, min_size=2, max_size=6, unique_by=str.lower))
    rows = [dict(video=v, group=v[:-4], fold=i % 2, **{c: int(j == 1 + i % 16) for j, c in enumerate(CLASSES)}) for i, v in enumerate(vids)]
    df = pd.DataFrame(rows, columns=FOLD_COLS).astype(object)
    m = draw(st.sampled_from(['column', 'empty_cell', 'fold', 'class', 'name', 'dup', 'case', 'leak', 'no_labels', 'header', 'empty', 'encoding']))
    if m == 'column': df = df.drop(columns=draw(st.sampled_from(FOLD_COLS)))
    elif m == 'empty_cell': df.loc[0, draw(st.sampled_from(FOLD_COLS))] = ''
    elif m == 'fold': df.loc[0, 'fold'] = draw(st.one_of(st.sampled_from([-1, 1.5, 'x', 'nan', 'inf', 10**30]), st.integers(1000, 10**40)))
    elif m == 'class': df.loc[0, draw(st.sampled_from(CLASSES))] = draw(st.sampled_from([2, -1, 0.5, 'x', 'nan', 10**20]))
    elif m == 'name': df.loc[0, 'video'] = draw(bad_names.filter(lambda s: s.strip() and '\n' not in s))
    elif m == 'dup': df.loc[1, 'video'] = df.loc[0, 'video']
    elif m == 'case': df.loc[1, 'video'] = df.loc[0, 'video'].upper()
    elif m == 'leak': df.loc[1, 'group'] = df.loc[0, 'group']; df.loc[1, 'fold'] = 1 - df.loc[0, 'fold']
    elif m == 'no_labels': df.loc[0, CLASSES] = 0
    elif m == 'header': df = df.head(0)
    elif m == 'empty': return draw(st.sampled_from([b'', b'\n', b'\x00\x00', b'"unclosed']))
    text = df.to_csv(index=False)
    return encode(text, draw(st.sampled_from(['utf-16', 'cp1252-bytes']))) if m == 'encoding' else text.encode()

RANGES = dict(epochs='-5 0 1.0e30 .nan', bs='0 -1 .inf', lr='.nan .inf -0.1 0', ema_decay='1.5 -1 .nan', wd='.nan -1',
              drop_rate='1.5 -0.1 .nan', pct_start='1.5 -0.1', size='0 -3 [0, 5] [1, 2, 3]', num_workers='-1', folds='[-1] [1.5]')

@st.composite
def yaml_files(draw)->bytes:
    "A malformed YAML experiment config: valid settings and one defect."
    import yaml, dataclasses
    from qvpipe_nb.train import TrainConfig
    fs = {f.name: f.type.replace(' ', '') for f in dataclasses.fields(TrainConfig)}
    base = {k: getattr(TrainConfig(), k) for k in draw(st.lists(st.sampled_from(sorted(fs)), max_size=4, unique=True))}
    key = draw(st.sampled_from(sorted(fs)))
    m = draw(st.sampled_from(['type', 'unknown', 'range', 'choice', 'top', 'syntax', 'encoding', 'key_type']))
    text = lambda d: yaml.safe_dump(d, sort_keys=False)
    if m == 'type':
        t = fs[key]
        wrong = {'str': st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.booleans()),
                 'bool': st.one_of(st.integers(), st.text(min_size=1, max_size=4).filter(lambda x: x.lower() not in ('true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n')), st.floats(allow_nan=False)),
                 'int': st.one_of(st.floats(allow_nan=False).filter(lambda x: x != int(x) if x == x and abs(x) < 1e300 else True), st.text(max_size=4), st.booleans()),
                 'float': st.one_of(st.text(min_size=1, max_size=4).filter(lambda x: not x.strip().lstrip('+-').replace('.', '', 1).replace('e', '', 1).isdigit()), st.lists(st.floats(), max_size=2), st.booleans())}
        w = wrong.get(t, st.one_of(st.dictionaries(st.text(max_size=2), st.integers(), min_size=1, max_size=2), st.floats(allow_nan=False)))
        return text({**base, key: draw(w)}).encode()
    if m == 'unknown': return text({**base, draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in fs)): 1}).encode()
    if m == 'range':
        k = draw(st.sampled_from(sorted(RANGES))); return (text(base) if base else '') .encode() + f'{k}: {draw(st.sampled_from(RANGES[k].split(" ") if not RANGES[k].startswith("[") else RANGES[k].split(" ")))}\n'.encode()
    if m == 'choice': return text({**base, draw(st.sampled_from(['kind', 'head', 'loss', 'precision', 'aggregate', 'grid'])): draw(st.text(min_size=1, max_size=6))}).encode()
    if m == 'top': return yaml.safe_dump(draw(st.one_of(st.lists(st.integers(), min_size=1, max_size=3), st.integers(), st.text(min_size=1, max_size=5).filter(lambda x: ':' not in x and x.strip() not in ('', '~', 'null', 'Null', 'NULL'))))).encode()
    if m == 'syntax': return draw(st.sampled_from([b'lr: [1,\n', b'a: b: c\n', b'\t- x', b'{lr: 1', b'lr: 1\n lr2: 2\n- x\n', b'"unclosed']))
    if m == 'encoding': return yaml.safe_dump({**base, 'name': 't\xe9st'}, allow_unicode=True).encode(draw(st.sampled_from(['utf-16', 'cp1252'])))
    return draw(st.sampled_from([b'1: 2\n', b'null: 3\n', b'[a]: 1\n', b'? [a, b]\n: 1\n', b'true: 1\n']))

def _yaml_reader(p):
    from qvpipe_nb.train import load_config
    return load_config(p)

TARGETS = dict(labels=(label_files(), lambda p, x: load_labels(p), '.json'),
               predictions=(prediction_files(), lambda p, x: load_predictions(p, x[1]), '.json'),
               folds=(folds_files(), lambda p, x: load_folds(p), '.csv'),
               yaml=(yaml_files(), lambda p, x: _yaml_reader(p), '.yaml'))

def run(kind:str, n:int=1000, seed:int=0)->dict:
    "Feed `n` generated malformed inputs to the reader of `kind`; count how each ended."
    strat, read, ext = TARGETS[kind]
    if kind == 'yaml': import qvpipe_nb.train      # its import seeds random generators: not inside a strategy
    d = Path(tempfile.mkdtemp(prefix=f'qv-fuzz-{kind}-'))
    res, bad = Counter(), []
    @settings(max_examples=n, derandomize=seed == 0, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strat)
    def one(x):
        p = d/f'in{res.total():05d}{ext}'
        p.write_bytes(x[0] if isinstance(x, tuple) else x)
        try: read(p, x); how = 'accepted'
        except QVError as e: how, msg = ('clear' if str(p) in str(e) else 'unnamed'), str(e)[:150]
        except Exception as e: how = f'{type(e).__name__}'
        res[how] += 1
        if how != 'clear' and sum(b.startswith(how) for b in bad) < 3: bad.append(f'{how}: {p.read_bytes()[:80]!r}' + (f' -> {msg}' if how == 'unnamed' else ''))
    (hseed(seed)(one) if seed else one)()
    return dict(kind=kind, tried=res.total(), clear=res['clear'], share=res['clear']/max(1, res.total()), outcomes=dict(res), examples=bad)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1000); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--only', nargs='+', default=list(TARGETS), choices=list(TARGETS))
    a = ap.parse_args()
    ok = True
    for k in a.only:
        r = run(k, a.n, a.seed)
        print(f"{k}: {r['tried']} malformed inputs tried, {r['clear']} ({r['share']:.1%}) ended in a clear QVError naming the file; outcomes {r['outcomes']}")
        for e in r['examples']: print(f'   {e}')
        ok &= r['clear'] == r['tried']
    sys.exit(0 if ok else 1)
