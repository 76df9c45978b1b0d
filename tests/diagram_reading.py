"""Reading a rendered diagram back, for tests: what each move's label says, what the key says,
and where graphviz put every line of text and every arrow.

The tests judge the diagram a reader sees, so they read the DOT source the way a reader
reads the picture (labels as plain text, the key column by column) and check the layout
on the coordinates ``dot -Tjson`` computes, not on the code that asked for it.
"""
from __future__ import annotations

import html
import json
import re
import subprocess
from dataclasses import dataclass

_CELL = re.compile(r'<TD ALIGN="LEFT" BALIGN="LEFT">(.*?)</TD>')
_KEY_ENTRY = re.compile(r"(\u2605?)([A-Z]|\d+|T\d+)\u2002(.*)")


def plain(markup: str) -> str:
    """HTML-like label text without tags or entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def squash(text: str) -> str:
    """Text without any whitespace, to compare sentences however they were wrapped."""
    return re.sub(r"\s+", "", text)


def node_label(dot: str, name: str) -> str:
    """The HTML-like label of node *name*."""
    match = re.search(rf"^\s*{re.escape(name)} \[label=<(.*)>", dot, re.M)
    assert match, f"no node {name} in the diagram"
    return match.group(1)


@dataclass(frozen=True)
class Move:
    """One move as drawn: an arrow (or, when source == target, a row of the stage's box)."""

    source: str
    target: str
    event: str
    lines: tuple[str, ...]  # plain text, from the event line on
    who: str | None  # key letter
    needs: tuple[str, ...]  # key numbers


_ID = re.compile(r'\bid="move\.([a-z0-9_]+)\.([a-z0-9_]+)"')
_REVIEW = re.compile(r'ID="move\.([a-z0-9_]+)\.([a-z0-9_]+)"')


def _move(source: str, target: str, event: str, lines: list[str]) -> Move:
    refs = next((line for line in lines[1:] if "who " in line), "")
    who = re.search(r"who \u2605?([A-Z])", refs)
    needs = re.search(r"needs (.*)", refs)
    numbers = tuple(n.strip().lstrip("\u2605") for n in needs.group(1).split(",")) if needs else ()
    return Move(source, target, event, tuple(lines), who.group(1) if who else None, numbers)


def moves(dot: str, states) -> list[Move]:
    """Every arrow between stages and every review drawn inside a stage's box, each with the event its SVG
    id names (``move.<event>.<from>``); lines start at the move's title (after a case's note, if any)."""
    found = []
    for source, target, rest in re.findall(r"^\s*(\w+) -> (\w+) \[label=<(.*)$", dot, re.M):
        label, attributes = rest.rsplit("> ", 1) if "> " in rest else (rest, "")
        event = _ID.search(attributes)
        if event is None:
            continue  # the invisible edges that hang the key
        cells = _CELL.findall(label)
        first = next(i for i, cell in enumerate(cells) if "<B>" in cell)  # after the case's note, if any
        found.append(_move(source, target, event.group(1), [plain(cell) for cell in cells[first:]]))
    for state in states:
        if not re.search(rf"^\s*{state} \[label=<", dot, re.M):
            continue  # on another page
        label = node_label(dot, state)
        chunks = _REVIEW.split(label)
        for i in range(1, len(chunks), 3):
            event, _source, body = chunks[i], chunks[i + 1], chunks[i + 2]
            found.append(_move(state, state, event, [plain(cell) for cell in _CELL.findall(body)]))
    return found


def brief_arrows(dot: str) -> dict[str, tuple[str, str, list[str]]]:
    """The arrows that name the moves between the paths by title ('out' of the page's stages, 'back' into
    them): way → (source, target, lines of plain text)."""
    found = {}
    for source, target, rest in re.findall(r"^\s*(\w+) -> (\w+) \[label=<(.*)$", dot, re.M):
        label, attributes = rest.rsplit("> ", 1) if "> " in rest else (rest, "")
        way = re.search(r'\bid="brief\.(out|back)"', attributes)
        if way:
            found[way.group(1)] = (source, target, [plain(cell) for cell in _CELL.findall(label)])
    return found


def timescales(dot: str, state: str) -> list[str]:
    """The key references (T1, …) a stage's box names as running while a case is in it."""
    line = next((plain(cell) for cell in re.findall(r"<TD[^>]*>(.*?)</TD>", node_label(dot, state))
                 if plain(cell).startswith("timescales ")), "")
    return [ref.strip().lstrip("\u2605") for ref in line.removeprefix("timescales ").split(",") if ref.strip()]


def key_entries(dot: str) -> dict[str, tuple[str, bool]]:
    """The key's entries, reference → (text, starred), read column by column as a reader does."""
    grid = node_label(dot, "__key").split('CELLPADDING="2">', 1)[1]
    columns: dict[int, list[str]] = {}
    for row in re.findall(r"<TR>(.*?)</TR>", grid):
        for number, cell in enumerate(_CELL.findall(row)):
            columns.setdefault(number, []).append(plain(cell))
    entries: dict[str, list] = {}
    for column in columns.values():
        current = None
        for line in column:
            match = _KEY_ENTRY.match(line)
            if match:
                current = match.group(2)
                assert current not in entries, f"key reference {current} is defined twice"
                entries[current] = [match.group(3), bool(match.group(1))]
            elif current and line.startswith("\u2003\u2002"):
                entries[current][0] += " " + line.strip()
            else:
                current = None
    return {ref: (text, starred) for ref, (text, starred) in entries.items()}


def layout_problems(dot: str) -> list[str]:
    """Where graphviz's layout hides text: lines of text that overlap, arrows through text or
    through a box they do not join, and anything outside the picture."""
    laid = json.loads(subprocess.run(["dot", "-Tjson"], input=dot.encode(), capture_output=True,
                                     check=True).stdout)
    x0, y0, x1, y1 = map(float, laid["bb"].split(","))
    texts = _texts(laid.get("_ldraw_"), "the graph")
    boxes = {}
    for obj in laid["objects"]:
        texts += _texts(obj.get("_ldraw_"), obj["name"])
        if "pos" in obj and "width" in obj:
            x, y = map(float, obj["pos"].split(","))
            w, h = float(obj["width"]) * 36, float(obj["height"]) * 36
            boxes[obj["_gvid"]] = (obj["name"], (x - w + 2, y - h + 2, x + w - 2, y + h - 2))
    arrows = []
    for edge in laid.get("edges", []):
        name = f"{laid['objects'][edge['tail']]['name']} -> {laid['objects'][edge['head']]['name']}"
        texts += _texts(edge.get("_ldraw_"), name)
        arrows.append((edge, name, _curve(edge.get("_draw_"))))
    problems = [f"text of {owner} outside the picture: {text!r}" for owner, text, (a, b, c, d) in texts
                if a < x0 - 1 or b < y0 - 1 or c > x1 + 1 or d > y1 + 1]
    for i, (owner, text, box) in enumerate(texts):
        for other, other_text, other_box in texts[i + 1:]:
            if _overlap(box, other_box):
                problems.append(f"text of {owner} {text!r} overlaps text of {other} {other_text!r}")
    for edge, name, points in arrows:
        if any(not (x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1) for x, y in points):
            problems.append(f"arrow {name} leaves the picture")
        problems += sorted({f"arrow {name} runs through text of {owner}: {text!r}" for owner, text, box in texts
                            if any(_inside(p, box) for p in points)})
        problems += sorted({f"arrow {name} runs through the box of {box_name}"
                            for gvid, (box_name, box) in boxes.items()
                            if gvid not in (edge["tail"], edge["head"]) and any(_inside(p, box) for p in points)})
    return problems


def _texts(ops, owner: str) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """Each drawn line of text with its box (baseline to cap height, trimmed half a point a side)."""
    size, found = 14.0, []
    for op in ops or []:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T" and op["text"].strip("\u2002\u2003 "):
            x, y = op["pt"]
            left = {"l": x, "c": x - op["width"] / 2, "r": x - op["width"]}[op["align"]]
            found.append((owner, op["text"], (left + 0.5, y - 0.2 * size, left + op["width"] - 0.5, y + 0.72 * size)))
    return found


def _curve(ops) -> list[tuple[float, float]]:
    """Points along an arrow's Bézier curves."""
    points = []
    for op in ops or []:
        if op["op"] in ("b", "B"):
            p = op["points"]
            for i in range(0, len(p) - 3, 3):
                a, b, c, d = p[i:i + 4]
                for step in range(21):
                    t = step / 20
                    points.append(tuple((1 - t) ** 3 * a[k] + 3 * (1 - t) ** 2 * t * b[k] + 3 * (1 - t) * t * t * c[k]
                                        + t ** 3 * d[k] for k in (0, 1)))
    return points


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(point, box) -> bool:
    return box[0] + 0.5 < point[0] < box[2] - 0.5 and box[1] + 0.5 < point[1] < box[3] - 0.5
