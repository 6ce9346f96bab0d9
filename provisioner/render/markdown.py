"""The plan as a pull-request comment (GitHub-flavoured markdown), from the plan document only.

Like the human view it reads the dict `--output json` prints, so the views cannot disagree.
Layout: a hidden marker line (CI finds and updates the comment by it), a summary line,
warnings, the cost effect, the quota effect when the document carries one, a collapsed
table of changes per account, the unmanaged resources, and a footer with the spec
digest.

Size: GitHub refuses comment bodies over 65,536 characters. The output stays within
`limit` UTF-8 bytes (a byte count is never below the character count): sections are
written in order of importance and a table that does not fit is cut, with a note saying
how many rows were left out.

Every value that comes from the spec or from Azure (names, tag values, warnings) is
escaped, so `|`, backticks, `<` or `@` in a value cannot break the table, inject HTML or
mention anyone.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterable, Mapping

from provisioner.render import cost as cost_text
from provisioner.render.human import summary_text
from provisioner.render.values import flatten, show

GITHUB_COMMENT_LIMIT = 65_536
SYMBOL = {"adopt": ">", "create": "+", "update": "~", "replace": "-/+", "delete": "-"}
VERB = {"adopt": "to adopt", "create": "to create", "update": "to update", "replace": "to replace",
        "delete": "to delete"}
OPEN_UP_TO = 30  # rows: plans this small show their tables expanded
CELL_LIMIT = 300  # characters of one table cell
WARNINGS_SHOWN = 50
_RESERVE = 600  # bytes kept for closing tags and truncation notes
_INLINE = set("\\`*_[]|~$")  # $: GitHub renders $...$ as math
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "&#64;", "#": "&#35;"}
_HTML_ENTITIES = {**_ENTITIES, '"': "&quot;", "'": "&#39;", "$": "&#36;", "`": "&#96;"}
_LINE_START = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")  # list items, setext underlines, ordered lists


def marker(document: Mapping[str, Any]) -> str:
    """The first line of the comment: hidden, stable per spec file, so CI can find the comment again."""
    spec_file = re.sub(r"-{2,}|>", "", str(document["spec"]["file"]))
    return f"<!-- provision plan {spec_file} -->"


def render_markdown(document: Mapping[str, Any], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    out = _Writer(limit)
    pending = [c for c in document["changes"] if c["action"] != "no-op"]
    out.force(marker(document))
    out.force(_title(document))
    out.force("")
    out.force(_summary_line(document, pending))
    out.footer = _footer(document)
    _warnings(out, document.get("warnings", ()))
    if document.get("cost") and document["cost"]["lines"]:
        _cost_totals(out, document["cost"])
    if document.get("quota"):
        _quota(out, document["quota"])
    _changes(out, pending)
    if document.get("cost") and document["cost"]["lines"]:
        _cost_lines(out, document["cost"])
    _unmanaged(out, document.get("unmanaged", ()))
    return out.finish()


# --- escaping -----------------------------------------------------------------------------


def md(value: Any) -> str:
    """A value as literal markdown text (for table cells, list items and paragraphs)."""
    text = " ".join(str(value).split()) if value is not None else ""
    if len(text) > CELL_LIMIT:
        text = text[:CELL_LIMIT - 1] + "…"
    escaped = "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _INLINE else ch) for ch in text)
    start = _LINE_START.match(escaped)
    if start is None:
        return escaped
    if start.group().isdigit():  # "12. x": escape the dot (a backslash before a digit would show)
        return escaped[:start.end()] + "\\" + escaped[start.end():]
    return "\\" + escaped


def html_text(value: Any) -> str:
    """A value inside an HTML element (markdown is not processed there, so no backslashes)."""
    return "".join(_HTML_ENTITIES.get(ch, ch) for ch in " ".join(str(value).split()))


# --- sections -----------------------------------------------------------------------------


def _title(document: Mapping[str, Any]) -> str:
    kind = "Destroy plan" if document.get("destroy") else "Plan"
    spec = document["spec"]
    targets = document.get("targets") or []
    suffix = f" (targets: {', '.join(md(t) for t in targets)})" if targets else ""
    if spec.get("environment"):
        suffix = f" (environment {md(spec['environment'])})" + suffix
    return f"### provision {kind.lower()}: {md(spec['name'])} ({md(spec['file'])}){suffix}"


def _summary_line(document: Mapping[str, Any], pending: list) -> str:
    if not pending:
        return "**No changes.** Azure matches the spec."
    line = f"**Plan: {summary_text(document['summary'])}.**"
    cost = document.get("cost")
    if cost and cost["lines"]:
        currency, totals = cost["currency"], cost["totals"]
        if totals["provisioned"]["delta"] or totals["provisioned"]["before"] or totals["provisioned"]["after"]:
            line += f" Provisioned: {md(cost_text.signed(totals['provisioned']['delta'], currency))}/month."
        if totals["unpriced"]:
            line += f" {totals['unpriced']} change(s) without a price."
    if document.get("warnings"):
        line += f" {len(document['warnings'])} warning(s)."
    return line


def _warnings(out: "_Writer", warnings: Iterable[str]) -> None:
    warnings = list(warnings)
    if not warnings:
        return
    out.add("")
    out.add("#### Warnings")
    out.add("")
    shown = 0
    for warning in warnings[:WARNINGS_SHOWN]:
        if not out.add(f"- {md(warning)}"):
            break
        shown += 1
    out.omitted("warning", len(warnings) - shown)


def _cost_totals(out: "_Writer", cost: Mapping[str, Any]) -> None:
    out.add("")
    out.add("#### Cost")
    out.add("")
    heading = md(cost_text.heading(cost))
    out.add(heading[:1].upper() + heading[1:] + ".")
    for total in cost_text.totals(cost):
        out.add("")
        out.add(md(total))


def _cost_lines(out: "_Writer", cost: Mapping[str, Any]) -> None:
    currency, lines = cost["currency"], cost["lines"]
    rows = []
    for line in lines:
        notes = "; ".join(line.get("notes", ()))
        rows.append(f"| {SYMBOL.get(line['action'], '~')} | {md(line['address'])} | "
                    f"{md(cost_text.side(line['before'], currency) if line['before'] else '')} | "
                    f"{md(cost_text.side(line['after'], currency) if line['after'] else '')} | "
                    f"{md(cost_text.effect(line, currency))}{' (' + md(notes) + ')' if notes else ''} |")
    summary = f"Cost per change ({len(lines)})"
    if not _table(out, summary, "| | Deployment | Before | After | Per month |\n|---|---|---|---|---|", rows,
                  "cost line", open_=len(lines) <= OPEN_UP_TO):
        out.omitted("cost line", len(rows))
        return
    notes = cost.get("notes") or ()
    if notes:
        _table(out, "What the cost figures assume, and where the prices come from", "", [f"- {md(n)}" for n in notes],
               "note", open_=False)


def _quota(out: "_Writer", quota: Any) -> None:
    """Any list of flat rows the document carries under "quota", as a table."""
    rows = quota.get("rows", []) if isinstance(quota, Mapping) else quota
    rows = [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []
    if not rows:
        return
    columns = list(rows[0].keys())
    header = "| " + " | ".join(md(c) for c in columns) + " |\n|" + "---|" * len(columns)
    body = ["| " + " | ".join(md(row.get(c, "")) for c in columns) + " |" for row in rows]
    out.add("")
    out.add("#### Quota")
    _table(out, f"Quota effect ({len(rows)})", header, body, "quota row", open_=len(rows) <= OPEN_UP_TO) \
        or out.omitted("quota row", len(body))


def _changes(out: "_Writer", pending: list) -> None:
    if not pending:
        return
    out.add("")
    out.add("#### Changes")
    groups: dict[str, list] = defaultdict(list)
    for change in pending:
        groups[_group(change)].append(change)
    expanded = len(pending) <= OPEN_UP_TO
    tallies = {group: _tally(changes) for group, changes in groups.items()}
    if not expanded:  # a big plan: one line per account first, in case the details do not all fit
        columns = [a for a in VERB if a != "adopt" or any(counts["adopt"] for counts in tallies.values())]
        rows = [f"| {md(group)} | " + " | ".join(str(counts[a]) for a in columns) + " |"
                for group, counts in tallies.items()]
        _table(out, f"Changes per account ({len(groups)})",
               "| Account | " + " | ".join(SYMBOL[a] for a in columns) + " |\n|---" + "|---" * len(columns) + "|",
               rows, "account", open_=True) or out.omitted("account", len(rows))
    for index, (group, changes) in enumerate(groups.items()):
        counts = tallies[group]
        tally = ", ".join(f"{counts[a]} {VERB[a]}" for a in VERB if counts[a])
        rows = [f"| {SYMBOL[c['action']]} | {md(c['name'])} | {md(c['kind'].replace('_', ' '))} | "
                f"{_fields(c)} |" for c in changes]
        written = _table(out, f"<b>{html_text(group)}</b>: {tally}", "| | Name | Kind | Changes |\n|---|---|---|---|",
                         rows, "change", open_=expanded, summary_is_html=True)
        if not written:
            rest = list(groups.values())[index:]
            out.omitted("change", sum(len(c) for c in rest), what=f"in {len(rest)} account(s)")
            return


def _tally(changes: list) -> dict[str, int]:
    counts = {action: 0 for action in VERB}
    for change in changes:
        counts[change["action"]] += 1
    return counts


def _unmanaged(out: "_Writer", unmanaged: Iterable[Mapping[str, Any]]) -> None:
    unmanaged = list(unmanaged)
    if not unmanaged:
        return
    rows = [f"| {md(u['address'])} | {md(u['kind'].replace('_', ' '))} |" for u in unmanaged]
    out.add("")
    _table(out, f"Not managed by this spec, left alone ({len(unmanaged)})", "| Address | Kind |\n|---|---|", rows,
           "unmanaged resource", open_=False) or out.omitted("unmanaged resource", len(rows))


def _table(out: "_Writer", summary: str, header: str, rows: list[str], noun: str, *, open_: bool,
           summary_is_html: bool = False) -> bool:
    """A collapsed table; rows that do not fit are left out with a note. False if not even the header fit."""
    label = summary if summary_is_html else html_text(summary)
    start = f"\n<details{' open' if open_ else ''}><summary>{label}</summary>\n\n{header}"
    end = "\n</details>"
    if not out.add(start, keep=len(end)):
        return False
    shown = 0
    for row in rows:
        if not out.add(row, keep=len(end)):
            break
        shown += 1
    if shown < len(rows):
        out.add(f"\n*{len(rows) - shown} more {noun}(s) not shown.*")
        out.truncated += len(rows) - shown
    out.add(end)
    return True


def _footer(document: Mapping[str, Any]) -> str:
    spec = document["spec"]
    return (f"\n\n---\n<sub>spec digest <code>{html_text(spec['digest'])}</code> · observed "
            f"<code>{html_text(document.get('observed_fingerprint', ''))}</code> · plan format "
            f"{html_text(document['format_version'])} · rendered by provision from the plan document "
            f"(<code>provision plan --output json</code>)</sub>")


# --- change details -----------------------------------------------------------------------


def _group(change: Mapping[str, Any]) -> str:
    if change["kind"] == "resource_group":
        return "resource groups"
    if change["kind"] == "account":
        return change["name"]
    return change["scope"].get("account") or "(no account)"


def _fields(change: Mapping[str, Any]) -> str:
    """What changes, as `path: before → after` (creates: the main properties)."""
    action = change["action"]
    if action == "create":
        pairs = [f"{md(path)}: {md(show(value))}" for path, value in flatten(change.get("after") or {})]
    elif action == "delete":
        return md(change.get("reason") or "")
    else:
        pairs = [f"{md(f['path'])}: {md(show(f['before']))} → {md(show(f['after']))}"
                 + (" **(forces replacement)**" if f.get("forces_replace") else "") for f in change["fields"]]
    text = "<br>".join(pairs)
    if len(text) > 4 * CELL_LIMIT:
        cut = text[:4 * CELL_LIMIT]
        text = cut[:cut.rfind("<br>")] + "<br>…" if "<br>" in cut else md("…")
    return text



# --- size ---------------------------------------------------------------------------------


class _Writer:
    """Lines within a byte budget; the footer and a final note always fit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lines: list[str] = []
        self.size = 0
        self.footer = ""
        self.truncated = 0  # rows left out

    def force(self, line: str) -> None:
        self.lines.append(line)
        self.size += _bytes(line) + 1

    def add(self, line: str, keep: int = 0) -> bool:
        """Append if it fits with `keep` bytes to spare (plus the footer); False otherwise."""
        cost = _bytes(line) + 1
        if self.size + cost + keep + _bytes(self.footer) + _RESERVE > self.limit:
            return False
        self.force(line)
        return True

    def omitted(self, noun: str, count: int, what: str = "") -> None:
        if count > 0:
            self.force(f"\n*{count} more {noun}(s){' ' + what if what else ''} not shown.*")
            self.truncated += count

    def finish(self) -> str:
        if self.truncated:
            self.force("\n> **Shortened** to fit GitHub's comment size limit; `provision plan` shows the whole plan.")
        text = "\n".join(self.lines) + self.footer + "\n"
        if _bytes(text) > self.limit:  # cannot happen with a sane limit; never emit an oversized comment
            text = text.encode("utf-8")[:self.limit].decode("utf-8", "ignore")
        return text


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))
