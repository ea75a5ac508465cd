#!/usr/bin/env python3
"""Finds import cycles between the modules (files) of each crate.

A module depends on another when it names it in a path: `crate::a::b`,
`super::x`, a child module `child::f`, or (in the crate root) a top-level
module `error::Error`. A cycle is a set of modules that reach each other that
way; the layout rule (docs/architecture.md) is that there are none: formats
and models at the bottom, commands on top.

    scripts/module-cycles.py [CRATE_DIR...]   # default: every crate of the repo

Prints each cycle with the names that tie it; exits 1 when there is one.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every crate of the host workspace with a src/ (firmware examples are single files).
DEFAULT_CRATES = sorted(
    str(p.parent.relative_to(ROOT))
    for pattern in ("build-support/*/Cargo.toml", "host/*/Cargo.toml", "cargo-assetota/Cargo.toml", "bench/Cargo.toml")
    for p in ROOT.glob(pattern)
    if (p.parent / "src").is_dir()
)


def strip(text):
    """Source without comments, string and char literals (kept as blanks)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"\w", text[i - 1 : i] or " "):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i : i + 4] + "  "):
            m = re.match(r"'(\\[^']*|[^\\'])'", text[i:])
            i += len(m.group(0)) if m else 1
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def modules(src):
    """{module path tuple: file} for a crate's src dir, from its file layout."""
    mods = {}
    for root_name in ("lib.rs", "main.rs"):
        if (src / root_name).exists():
            mods[()] = src / root_name
            break
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        parts = list(rel.with_suffix("").parts)
        if parts in (["lib"], ["main"]) or parts[0] == "bin":
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        mods[tuple(parts)] = path
    return mods


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    depth, brace = 0, -1
    for i, ch in enumerate(tree):
        if ch == "{" and depth == 0 and brace < 0:
            brace = i
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
    if brace < 0:
        return [tree] if tree else []
    prefix = tree[:brace]
    inner = tree[brace + 1 : tree.rfind("}")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    return [p for item in items for p in expand_use(prefix + item.strip()) if item.strip()]


PATH = re.compile(r"(?<![\w:$])((?:crate|super|self|[A-Za-z_]\w*)(?:::[A-Za-z_]\w*)+)")


def references(text):
    """Every path with `::` in the code, use trees expanded."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in expand_use(m.group(1)):
            paths.append(re.sub(r"\s+as\s+\w+$", "", p).replace(" ", ""))
    body = re.sub(r"\buse\s+[^;]+;", " ", text)
    paths += [m.group(1) for m in PATH.finditer(body)]
    return paths


def resolve(path, here, mods):
    """The module a path names (its longest module prefix), or None."""
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = here
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    elif here + (segs[0],) in mods:
        base = here  # a child module, named relatively
    elif () + (segs[0],) in mods and here == ():
        base = ()
    else:
        return None
    found = base
    for i in range(len(segs)):
        if base + tuple(segs[: i + 1]) in mods:
            found = base + tuple(segs[: i + 1])
        else:
            break
    return found


def crate_graph(crate):
    src = ROOT / crate / "src"
    mods = modules(src)
    edges = {m: {} for m in mods}
    for mod, file in mods.items():
        text = strip(file.read_text())
        # Declared `#[cfg(test)] mod tests {}` blocks reach their parent by
        # `super::*`; that is the test of a module, not a dependency of it.
        text = re.sub(r"#\[cfg\([^\]]*\btest\b[^\]]*\)\]\s*mod\s+\w+\s*\{", "mod __tests__ {", text)
        cut = text.find("mod __tests__ {")
        if cut >= 0:
            text = text[:cut]
        for p in references(text):
            target = resolve(p, mod, mods)
            if target is not None and target != mod:
                edges[mod].setdefault(target, set()).add(p.split("::")[-1])
    return mods, edges


def cycles(edges):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    crates = sys.argv[1:] or DEFAULT_CRATES
    found = 0
    for crate in crates:
        mods, edges = crate_graph(crate)
        for comp in cycles(edges):
            found += 1
            names = lambda m: str(mods[m].relative_to(ROOT))
            print(f"cycle in {crate}: {len(comp)} modules")
            for a in comp:
                for b, what in sorted(edges[a].items()):
                    if b in comp:
                        print(f"  {names(a)} -> {names(b)}: {', '.join(sorted(what))}")
    if found:
        print(f"{found} cycle(s)")
        return 1
    print(f"no module cycles in {len(crates)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
