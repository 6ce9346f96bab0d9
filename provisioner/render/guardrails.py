"""Guardrail findings as text lines and as a SARIF 2.1.0 log for GitHub code scanning.

SARIF: OASIS "Static Analysis Results Interchange Format Version 2.1.0"
(https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), in the subset GitHub reads
(https://docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
every rule is declared under runs[].tool.driver.rules (so a rule that found nothing closes its old
alerts), each result has ruleId, level, message and a location whose artifactLocation.uri is relative
to the repository root; rules tagged "security" with a `security-severity` (a number from 0.0 to 10.0)
are shown as security alerts (critical over 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9). A waived
finding is a result with an inSource suppression carrying the waiver's reason.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from provisioner.spec.rules import Finding, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"error": "7.5", "warning": "5.0", "note": "2.0"}  # high, medium, low


def text_lines(findings: Sequence[Finding]) -> list[str]:
    """One line per finding and one for its fix, then a summary."""
    lines = []
    for finding in findings:
        lines.append(str(finding))
        if finding.waived is None:
            lines.append(f"    fix: {finding.rule.fix}")
    counts = {severity: sum(1 for f in findings if f.waived is None and f.rule.severity == severity)
              for severity in ("error", "warning", "note")}
    waived = sum(1 for f in findings if f.waived is not None)
    lines.append(f"Guardrails: {counts['error']} error(s), {counts['warning']} warning(s), {counts['note']} note(s)"
                 f", {waived} waived.")
    return lines


def sarif_log(findings: Iterable[Finding], rules: Sequence[Rule], *, version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run: every rule, and a result per finding."""
    index = {rule.id: i for i, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "provision", "version": version, "rules": [_rule(r) for r in rules]}},
            "columnKind": "unicodeCodePoints",  # our columns count characters, as PyYAML's marks do
            "results": [_result(f, index[f.rule.id]) for f in findings],
        }],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary} Guidance: {rule.source}"},
        "help": {"text": f"Fix: {rule.fix}. Waive it in the spec with a reason: "
                         f"waive: [{{rule: {rule.id}, reason: \"...\"}}].",
                 "markdown": f"**Fix:** {rule.fix}.\n\nGuidance: <{rule.source}>\n\nWaive it in the spec with a "
                             f"reason: `waive: [{{rule: {rule.id}, reason: \"...\"}}]`."},
        "helpUri": rule.source,
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"tags": ["security"], "security-severity": SECURITY_SEVERITY[rule.severity]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    region = {}
    if finding.line is not None:
        region["startLine"] = finding.line
        if finding.column is not None:
            region["startColumn"] = finding.column
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.file)}}
    if region:
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": finding.rule.severity,
        "message": {"text": f"{finding.message}. Fix: {finding.rule.fix}."},
        "locations": [{"physicalLocation": physical}],
    }
    if finding.waived is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.waived}]
    return result


def _uri(file: str) -> str:
    """The spec's path relative to the working folder (the repository root in CI), with forward slashes."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return path.as_posix()
