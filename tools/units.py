import ast, json, sys, glob, re
from pathlib import Path
# functions
rows=[]
for f in sorted(glob.glob('./qvpipe_nb/*.py')):
    if f.endswith('_modidx.py'): continue
    t=ast.parse(open(f).read())
    for n in ast.walk(t):
        if isinstance(n,(ast.FunctionDef,ast.AsyncFunctionDef)):
            L=n.end_lineno-n.lineno+1
            if L>=40: rows.append((L,Path(f).stem,n.name))
for r in sorted(rows,reverse=True): print(*r)
print('functions>=40:',len(rows),' >60:',sum(r[0]>60 for r in rows))
multi=0; longest=(0,'')
for nb in sorted(glob.glob('./nbs/**/*.ipynb',recursive=True)):
    j=json.load(open(nb))
    for c in j['cells']:
        if c['cell_type']!='code': continue
        s=''.join(c['source'])
        if not re.search(r'^#\|\s*export',s,re.M): continue
        try: t=ast.parse('\n'.join(l for l in s.splitlines() if not l.startswith('%') and not l.startswith('!')))
        except Exception as e: continue
        defs=[n for n in t.body if isinstance(n,(ast.FunctionDef,ast.ClassDef,ast.AsyncFunctionDef))]
        if len(defs)>1: multi+=1; print('multi',Path(nb).name,[d.name for d in defs]) if '-v' in sys.argv else None
        n=len(s.splitlines())
        if n>longest[0]: longest=(n,Path(nb).name+' '+(defs[0].name if defs else ''))
print('exported cells with several defs:',multi,' longest exported cell:',longest)
