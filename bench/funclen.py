#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench/funclen.py -- count C function definitions (style(9) layout) and their lengths.

A definition: a line at column 0 that starts with an identifier followed
by '(' (the name line), then lines until a '{' alone at column 0; the body
ends at the next '}' at column 0.  Length = lines from the name line to
the closing brace inclusive ("total") and the lines strictly inside the
braces ("body")."""
import re, subprocess, sys

NAME = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)\(')

def funcs(path):
    lines = open(path, errors='replace').read().split('\n')
    out = []
    i = 0
    while i < len(lines):
        m = NAME.match(lines[i])
        if m and not lines[i].startswith(('if', 'for', 'while', 'switch', 'return', 'sizeof')):
            j = i
            while j < len(lines) and lines[j] != '{' and not lines[j].rstrip().endswith(';') and j - i < 12:
                j += 1
            if j < len(lines) and lines[j] == '{':
                k = j + 1
                while k < len(lines) and not lines[k].startswith('}'):
                    k += 1
                out.append((m.group(1), i + 1, k - i + 1, k - j - 1))
                i = k + 1
                continue
        i += 1
    return out

def main():
    args = sys.argv[1:]
    limit = 80
    if args and args[0].startswith('--limit='):
        limit = int(args.pop(0).split('=')[1])
    dirs = args or ['apm2d', 'supervisor', 'common', 'apm2ctl']
    files = subprocess.check_output(['git', 'ls-files', '--'] +
        [d + '/*.c' for d in dirs], text=True).split()
    allf = []
    for f in files:
        for name, line, total, body in funcs(f):
            allf.append((f, name, line, total, body))
    for key, label in ((3, 'total'), (4, 'body')):
        over = [x for x in allf if x[key] > limit]
        print(f'{label}: {len(over)} of {len(allf)} functions over {limit} lines')
        for x in sorted(over, key=lambda x: -x[key]):
            print(f'  {x[0]}:{x[2]} {x[1]}() {x[key]}')

main()
