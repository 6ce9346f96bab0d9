"""provisioner.render.markdown: the plan as a pull-request comment.

Rendered from plan documents (Plan.to_dict(), as `--output json` prints them) with costs from
the fixture price table. Snapshots live in tests/render/snapshots/; after a deliberate change of
the layout, regenerate them with UPDATE_SNAPSHOTS=1 and review the diff.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from provisioner.model.resources import Kind, Scope
from provisioner.plan import cost, pricefile
from provisioner.plan.model import Action, Change, FieldChange, Plan, Unmanaged
from provisioner.render.markdown import GITHUB_COMMENT_LIMIT, marker, md, render_markdown

HERE = Path(__file__).resolve().parent
SNAPSHOTS = HERE / "snapshots"
PRICES = pricefile.load(HERE.parent / "fixtures" / "prices" / "fixture-prices.json")
HOSTILE = "a|b `tick` <img src=x onerror=alert(1)> @octocat #1 *bold* _u_ [l](http://x) $x$ ~s~ \\ & line\nbreak"


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1)"


def deployment(sku: str, capacity: int, **extra) -> dict:
    return {"model": "gpt-4o", "format": "OpenAI", "version": "2024-11-20", "sku": sku, "capacity": capacity,
            "tags": {"team": "ai"}, **extra}


def dep(account: str, name: str, action: Action, before=None, after=None, fields=()) -> Change:
    return Change(kind=Kind.DEPLOYMENT, name=name, scope=Scope("sub", "rg", account), action=action,
                  before=before, after=after, fields=tuple(fields),
                  reason={"create": "does not exist", "delete": "managed by this spec but no longer in it"}.get(
                      action.value, "differs from the spec"))


def acct(name: str, location: str = "eastus2", action: Action = Action.NOOP) -> Change:
    props = {"location": location, "kind": "OpenAI", "tags": {"team": "ai"}}
    return Change(kind=Kind.ACCOUNT, name=name, scope=Scope("sub", "rg"), action=action,
                  before=None if action is Action.CREATE else props, after=props)


def document(*changes: Change, warnings=(), unmanaged=(), spec_file="deployments.yaml") -> dict:
    plan = Plan(spec_file=spec_file, spec_digest="sha256:" + "ab" * 32, spec_name="aoai-prod",
                observed_fingerprint="sha256:" + "cd" * 32, changes=tuple(changes), warnings=tuple(warnings),
                unmanaged=tuple(unmanaged))
    return json.loads(json.dumps(cost.with_cost(plan, PRICES).to_dict()))


def small_plan() -> dict:
    return document(
        acct("aoai-eus2"),
        dep("aoai-eus2", "ptu", Action.CREATE, after=deployment("GlobalProvisionedManaged", 50)),
        dep("aoai-eus2", "chat", Action.UPDATE, deployment("GlobalStandard", 10), deployment("GlobalStandard", 30),
            [FieldChange("capacity", 10, 30)]),
        dep("aoai-eus2", "old", Action.DELETE, before=deployment("ProvisionedManaged", 100)),
        dep("aoai-eus2", "batch", Action.CREATE, after=deployment("GlobalBatch", 100)),
        warnings=["aoai-eus2/deployments/old is deleted: requests to it fail"],
        unmanaged=[Unmanaged(Kind.DEPLOYMENT, "manual", Scope("sub", "rg", "aoai-eus2"))],
    )


def huge_plan(accounts: int = 40, per_account: int = 100) -> dict:
    changes = []
    for a in range(accounts):
        name = f"aoai-{a:03d}"
        changes.append(acct(name, action=Action.CREATE))
        for d in range(per_account):
            changes.append(dep(name, f"deployment-{d:04d}", Action.CREATE,
                               after=deployment("DataZoneProvisionedManaged" if d % 2 else "GlobalStandard", 50 + d)))
    return document(*changes, warnings=[f"warning number {i}" for i in range(200)])


def hostile_plan() -> dict:
    tags_before = {"owner": "a"}
    tags_after = {"owner": HOSTILE}
    return document(
        acct("acct"),
        dep("acct", "chat", Action.UPDATE, deployment("GlobalStandard", 10, tags=tags_before),
            deployment("GlobalStandard", 10, tags=tags_after), [FieldChange("tags.owner", "a", HOSTILE)]),
        dep("acct", "- starts like a list", Action.CREATE, after=deployment("GlobalStandard", 1, tags=tags_after)),
        dep("acct", "1. starts like a list", Action.DELETE, before=deployment("GlobalStandard", 1)),
        warnings=[HOSTILE, "# not a heading", "> not a quote"],
        spec_file="specs/<x>--> |evil|.yaml",
    )


# --- snapshots -------------------------------------------------------------------------------


def test_small_plan_snapshot():
    snapshot("small.md", render_markdown(small_plan()))


def test_hostile_values_snapshot():
    snapshot("hostile.md", render_markdown(hostile_plan()))


def test_huge_plan_snapshot():
    snapshot("huge.md", render_markdown(huge_plan()))


# --- what a reviewer must be able to rely on -------------------------------------------------


def test_small_plan_shows_summary_changes_cost_and_digest():
    text = render_markdown(small_plan())
    lines = text.splitlines()
    assert lines[0] == "<!-- provision plan deployments.yaml -->"
    assert "**Plan: 2 to create, 1 to update, 0 to replace, 1 to delete.**" in text
    assert "| + | ptu | deployment |" in text
    assert "capacity: 10 → 30" in text
    # costs from the fixture: 50 PTU x 2.00 x 730 = 73,000; 100 regional PTU x 5.00 x 730 = 365,000 freed
    assert "\\+\\$73,000.00/month" in text and "\\-\\$365,000.00/month" in text
    assert "Provisioned: \\$365,000.00 → \\$73,000.00 per month (-\\$292,000.00)" in text
    assert "no price" in text  # the batch deployment
    assert "sha256:" + "ab" * 32 in lines[-1]
    assert "shortened" not in text.lower()


def test_every_table_row_keeps_its_columns_whatever_the_values():
    text = render_markdown(hostile_plan())
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    assert len(tables) == 2  # changes and cost per change
    for table in tables:
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table
        assert len(table) > 2  # header, separator and rows


def test_values_cannot_inject_html_mentions_or_markup():
    text = render_markdown(hostile_plan())
    body = text.split("\n", 1)[1]  # after the marker comment
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "@octocat" not in body and "&#64;octocat" in body
    assert "#1" not in body.replace("&#35;1", "")
    assert "\\`tick\\`" in body and "\\*bold\\*" in body and "\\$x\\$" in body
    assert "line break" in body  # a newline in a value stays inside its cell
    assert "\n- &#35; not a heading" in body and "\n- &gt; not a quote" in body
    assert "| - | 1\\. starts like a list |" in body
    assert "| + | \\- starts like a list |" in body


def test_the_marker_cannot_be_closed_early_by_the_spec_name():
    text = render_markdown(hostile_plan())
    first = text.splitlines()[0]
    assert first.startswith("<!-- ") and first.endswith(" -->") and first.count("-->") == 1
    assert marker(hostile_plan()) == first


def test_huge_plan_stays_under_githubs_limit_and_says_what_was_left_out():
    text = render_markdown(huge_plan())
    assert len(text.encode("utf-8")) <= GITHUB_COMMENT_LIMIT
    assert "**Plan: 4040 to create, 0 to update, 0 to replace, 0 to delete.**" in text
    assert re.search(r"\*\d+ more change\(s\) not shown", text)
    assert "Shortened" in text
    assert text.count("<details") == text.count("</details>")
    assert "sha256:" + "ab" * 32 in text.splitlines()[-1]


@pytest.mark.parametrize("limit", [2_000, 5_000, 20_000, 65_536])
def test_any_limit_is_respected(limit):
    text = render_markdown(huge_plan(accounts=10, per_account=50), limit=limit)
    assert len(text.encode("utf-8")) <= limit
    assert text.count("<details") == text.count("</details>")
    assert text.startswith("<!-- provision plan")


def test_multibyte_values_are_counted_in_bytes():
    wide = "€" * 200
    doc = document(acct("acct"), *[dep("acct", f"d{i}", Action.UPDATE, deployment("GlobalStandard", 1),
                                       deployment("GlobalStandard", 1, tags={"x": wide}),
                                       [FieldChange("tags.x", None, wide)]) for i in range(500)])
    text = render_markdown(doc, limit=30_000)
    assert len(text.encode("utf-8")) <= 30_000 and "not shown" in text


def test_no_changes():
    text = render_markdown(document(acct("acct")))
    assert "**No changes.** Azure matches the spec." in text
    assert "#### Changes" not in text


def test_quota_rows_are_rendered_when_the_document_carries_them():
    doc = small_plan()
    doc["quota"] = [{"usage": "OpenAI.GlobalStandard.gpt-4o", "region": "eastus2", "limit": 100, "requested": 20}]
    text = render_markdown(doc)
    assert "#### Quota" in text
    assert "| OpenAI.GlobalStandard.gpt\\-4o | eastus2 | 100 | 20 |" not in text  # '-' is not escaped mid-text
    assert "| OpenAI.GlobalStandard.gpt-4o | eastus2 | 100 | 20 |" in text


def test_md_escapes_line_starts_only_where_markdown_would_read_them():
    assert md("gpt-4o") == "gpt-4o"
    assert md("-x") == "\\-x" and md("+x") == "\\+x" and md("= x") == "\\= x"
    assert md("12. x") == "12\\. x" and md("3) x") == "3\\) x"
    assert md("# h") == "&#35; h" and md("> q") == "&gt; q"


def test_the_human_view_prints_a_long_value_as_it_is(monkeypatch):
    """Rich's highlighter scans printed text with regular expressions, slowly on long values (a 100 KB
    tag value made `plan` hang): the console provision prints with has it switched off, and a
    value is printed whole, once."""
    import io

    from provisioner.cli.options import console
    from provisioner.render.human import render_plan

    value = "x" * 90_000 + "[bold]not markup[/bold]"
    document = {"spec": {"file": "deployments.yaml"}, "targets": [], "destroy": False, "unmanaged": [],
                "warnings": [], "summary": {"create": 1, "update": 0, "replace": 0, "delete": 0},
                "changes": [{"action": "create", "kind": "deployment", "address": "a/deployments/d",
                             "reason": "does not exist", "after": {"tags": {"big": value}}, "fields": [],
                             "notes": []}]}
    monkeypatch.delenv("COLUMNS", raising=False)  # as in a CI log
    view = console()
    assert view._highlight is False
    view.file = io.StringIO()
    render_plan(document, view)
    assert value in view.file.getvalue()
