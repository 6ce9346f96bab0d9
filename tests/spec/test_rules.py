"""Guardrails: each rule fails on a spec that breaks it, passes on one that keeps it, and can be waived.

The base spec is tests/fixtures/guardrails/secure.yaml (no security settings beyond local_auth and
public access: PRV003 and PRV004 remain); each failing spec is that file with one edit, so the rule
under test is the only thing that changes. The rules on the security settings are tested on
examples/secure.yaml (the README's "Secure by default"), which passes every rule.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import SpecError
from provisioner.spec import load_from_text
from provisioner.spec.rules import RULES, RULES_BY_ID, check, failing

SECURE = (Path(__file__).resolve().parents[1] / "fixtures" / "guardrails" / "secure.yaml").read_text()
ACCOUNT = "  - name: aoai-secure-eus2\n"
CHAT = "      - name: chat\n"
PTU = "      - name: chat-ptu\n"
FILTER = "  strict:\n"

# rule -> (edits turning secure.yaml into a failing spec, where `waive:` goes, the failing line's text,
#          words the message must contain)
CASES = {
    "PRV001": ([("public_network_access: disabled", "public_network_access: enabled")], ACCOUNT,
               "public_network_access: enabled", "account 'aoai-secure-eus2' accepts requests from any network"),
    "PRV002": ([("local_auth: false ", "local_auth: true ")], ACCOUNT,
               "local_auth: true", "account 'aoai-secure-eus2' keeps key authentication on"),
    "PRV006": ([("content_filters:\n", "key_vault: {name: kv-aoai-secure}\ncontent_filters:\n")], ACCOUNT,
               "local_auth: false", "key_vault 'kv-aoai-secure' publishes keys, but account 'aoai-secure-eus2'"),
    "PRV007": ([(CHAT + "        model: gpt-4o\n        version: \"2024-11-20\"\n        capacity: 50\n"
                 "        content_filter: strict\n",
                 CHAT + "        model: gpt-4o\n        version: \"2024-11-20\"\n        capacity: 50\n")], CHAT,
               CHAT.strip(), "deployment 'aoai-secure-eus2/chat' names no content filter"),
    "PRV008": ([("hate: low,", "hate: off,")], FILTER, "hate: off",
               "content filter 'strict' switches the hate filter off for prompts and completions"),
    "PRV009": ([("jailbreak: block", "jailbreak: off")], FILTER, "jailbreak: off",
               "content filter 'strict' switches the jailbreak prompt shield off"),
    "PRV010": ([("protected_material_code: block", "protected_material_code: off")], FILTER,
               "protected_material_code: off", "content filter 'strict' switches protected_material_code"),
    "PRV011": ([("mode: blocking", "mode: asynchronous")], FILTER, "mode: asynchronous",
               "content filter 'strict' filters asynchronously"),
    "PRV012": ([("        spillover: chat ", "        # no spillover ")], PTU, PTU.strip(),
               "provisioned deployment 'aoai-secure-eus2/chat-ptu' has no spillover target"),
    "PRV013": ([("upgrade: on-expiry\n      - name: chat-ptu", "upgrade: never\n      - name: chat-ptu")], CHAT,
               "upgrade: never", "deployment 'aoai-secure-eus2/chat' never upgrades"),
}
# Rules about the security fields: tested below on examples/secure.yaml, which sets them.
SECURITY_FIELD_RULES = {"PRV003", "PRV004", "PRV005"}


def failing_text(rule: str) -> str:
    text = SECURE
    for old, new in CASES[rule][0]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def findings_of(text: str, rule: str):
    spec, _ = load_from_text(text, "deployments.yaml")
    return [f for f in check(spec) if f.rule.id == rule]


def line_of(text: str, words: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if words in line)


def test_every_rule_has_a_case():
    assert set(CASES) | SECURITY_FIELD_RULES == set(RULES_BY_ID)
    assert all(rule.severity in ("error", "warning", "note") and rule.fix and rule.source.startswith("https://")
               for rule in RULES)


def test_the_secure_spec_passes_every_rule_its_fields_can_satisfy():
    spec, _ = load_from_text(SECURE, "deployments.yaml")
    assert {f.rule.id for f in check(spec)} == {"PRV003", "PRV004"}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fails_at_the_offending_line(rule):
    _, _, marker, words = CASES[rule]
    text = failing_text(rule)
    findings = findings_of(text, rule)
    assert len(findings) == 1, findings
    finding = findings[0]
    assert words in finding.message
    assert (finding.file, finding.line) == ("deployments.yaml", line_of(text, marker))
    assert finding.waived is None
    assert str(finding).startswith(f"deployments.yaml:{finding.line}:{finding.column}: {rule} ")


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_passes_on_the_secure_spec(rule):
    assert findings_of(SECURE, rule) == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_waived_where_the_resource_is_declared(rule):
    anchor = CASES[rule][1]
    indent = " " * (len(anchor) - len(anchor.lstrip(" -")) + (0 if "- " in anchor else 2))  # the item's keys
    waive = f"{indent}waive: [{{rule: {rule}, reason: \"accepted by the security review SR-42\"}}]\n"
    text = failing_text(rule).replace(anchor, anchor + waive, 1)
    [finding] = findings_of(text, rule)
    assert finding.waived == "accepted by the security review SR-42"
    assert failing([finding], strict=True) == []
    assert str(finding).endswith("(waived: accepted by the security review SR-42)")


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_waived_at_the_top_of_the_spec(rule):
    text = failing_text(rule) + f"waivers:\n  - rule: {rule}\n    reason: pilot only\n"
    [finding] = findings_of(text, rule)
    assert finding.waived == "pilot only"


def test_a_waiver_of_another_rule_or_another_account_does_not_waive():
    text = failing_text("PRV002") + (
        "  - name: aoai-other\n    deployments: []\n"
        "waivers:\n"
        "  - {rule: PRV001, reason: wrong rule}\n"
        "  - {rule: PRV002, reason: other account, accounts: [aoai-other]}\n")
    findings = findings_of(text, "PRV002")
    assert [(f.message.split("'")[1], f.waived) for f in findings] == [
        ("aoai-secure-eus2", None), ("aoai-other", "other account")]


def test_a_deployment_waiver_does_not_cover_its_sibling():
    text = failing_text("PRV013").replace("upgrade: on-expiry\n        spillover", "upgrade: never\n        spillover")
    text = text.replace(CHAT, CHAT + "        waive: [{rule: PRV013, reason: pinned on purpose}]\n")
    findings = findings_of(text, "PRV013")
    assert [(f.message.split("'")[1], f.waived) for f in findings] == [
        ("aoai-secure-eus2/chat", "pinned on purpose"), ("aoai-secure-eus2/chat-ptu", None)]


def test_harm_filter_off_on_one_side_names_the_side():
    text = SECURE.replace("sexual: medium,", "sexual: {prompt: low, completion: off},")
    [finding] = findings_of(text, "PRV008")
    assert finding.message == "content filter 'strict' switches the sexual filter off for completions"
    assert finding.rule.severity == "error" and failing([finding]) == [finding]


def test_an_existing_account_is_not_judged_on_settings_it_does_not_manage():
    text = failing_text("PRV002").replace(ACCOUNT, ACCOUNT + "    existing: true\n")
    assert findings_of(text, "PRV002") == []
    assert findings_of(text, "PRV003") == []


def test_strict_makes_warnings_fail_and_notes_never_do():
    spec, _ = load_from_text(failing_text("PRV013"), "deployments.yaml")
    findings = check(spec)
    assert failing(findings) == []
    assert {f.rule.id for f in failing(findings, strict=True)} == {"PRV003"}


# --- the security fields: network, private endpoints, diagnostics, outbound restriction ------------------
# examples/secure.yaml (the README's "Secure by default") sets them all and passes every rule.

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "secure.yaml").read_text()
NETWORK = "    network:\n      public_access: disabled         # no public endpoint: only the private endpoint below\n" \
          "      default_action: deny\n      bypass: none\n"


def example_with(*edits: tuple[str, str]):
    text = EXAMPLE
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    spec, _ = load_from_text(text, "deployments.yaml")
    return spec, text


def ids(spec):
    return sorted(f.rule.id for f in check(spec) if f.waived is None)


def test_the_secure_example_passes_every_rule():
    spec, _ = example_with()
    findings = check(spec)
    assert [(f.rule.id, f.waived is not None) for f in findings] == [("PRV006", True)]
    assert failing(findings, strict=True) == []


def test_network_rules_that_deny_by_default_satisfy_prv001():
    open_network = "    network:\n      public_access: enabled\n"
    spec, text = example_with((NETWORK, open_network))
    [finding] = [f for f in check(spec) if f.rule.id == "PRV001"]
    assert finding.line == line_of(text, "public_access: enabled")
    assert "the public endpoint stays open" in finding.message  # it has a private endpoint
    allow = open_network + "      default_action: allow\n      ip_rules: [203.0.113.0/24]\n"
    assert "PRV001" in ids(example_with((NETWORK, allow))[0])
    deny = open_network + "      ip_rules: [203.0.113.0/24]\n"  # rules given: deny by default
    assert "PRV001" not in ids(example_with((NETWORK, deny))[0])
    assert "PRV001" not in ids(example_with()[0])


def test_public_network_access_is_the_older_spelling_of_network_public_access():
    old_style = "    public_network_access: disabled\n"
    assert "PRV001" not in ids(example_with((NETWORK, old_style))[0])
    spec, text = example_with((NETWORK, "    public_network_access: enabled\n"))
    [finding] = [f for f in check(spec) if f.rule.id == "PRV001"]
    assert finding.line == line_of(text, "public_network_access: enabled")


def test_a_private_endpoint_without_dns_zone_is_prv005():
    zone = ("        dns_zone_ids:\n          - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
            "rg-network/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com\n")
    spec, text = example_with((zone, ""))
    [finding] = [f for f in check(spec) if f.rule.id == "PRV005"]
    assert finding.message == ("private endpoint 'pe-aoai-secure-eus2' of account 'aoai-secure-eus2' has no "
                               "private DNS zone")
    assert finding.line == line_of(text, "- name: pe-aoai-secure-eus2")


def test_diagnostics_with_audit_logs_satisfy_prv003():
    assert "PRV003" not in ids(example_with(("      logs: all\n", "      logs: [Audit, Trace]\n"))[0])
    spec, text = example_with(("      logs: all\n", "      logs: [Trace]\n"))
    [finding] = [f for f in check(spec) if f.rule.id == "PRV003"]
    assert finding.message == "account 'aoai-secure-eus2' does not send its Audit logs to a workspace"
    assert finding.line == line_of(text, "logs: [Trace]")
    start = EXAMPLE.index("    diagnostics:\n")
    without = EXAMPLE[start:EXAMPLE.index("    waive:\n")]
    [finding] = [f for f in check(example_with((without, ""))[0]) if f.rule.id == "PRV003"]
    assert finding.message.endswith("has no diagnostics configured: its audit and request logs are kept nowhere")


def test_diagnostics_in_defaults_count_for_every_account():
    start = EXAMPLE.index("    diagnostics:\n")
    block = EXAMPLE[start:EXAMPLE.index("    waive:\n")]
    moved = "\n".join(line[2:] for line in block.splitlines()) + "\n"
    spec, _ = example_with((block, ""), ("  location: eastus2\n", "  location: eastus2\n" + moved))
    assert "PRV003" not in ids(spec)


def test_restricted_outbound_satisfies_prv004():
    assert "PRV004" not in ids(example_with()[0])
    spec, _ = example_with(("    restrict_outbound: true           # the account may call out to nothing else\n"
                            "    allowed_fqdns: []\n", ""))
    assert "PRV004" in ids(spec)


# --- waivers are validated -----------------------------------------------------------------------------

def spec_errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "deployments.yaml")
    return [str(d) for d in caught.value.diagnostics if d.severity == "error"]


def test_a_waiver_without_a_reason_is_an_error_naming_its_line():
    text = SECURE + "waivers:\n  - rule: PRV003\n"
    assert spec_errors(text) == [f"deployments.yaml:{line_of(text, '- rule: PRV003')}:5: waivers[0].reason: "
                                 "required field 'reason' is missing"]


def test_a_waiver_with_a_blank_reason_is_an_error():
    text = SECURE.replace(CHAT, CHAT + "        waive: [{rule: PRV013, reason: \"  \"}]\n")
    assert spec_errors(text) == [f"deployments.yaml:{line_of(text, 'waive:')}:40: "
                                 "accounts[0].deployments[0].waive[0].reason: the waiver of PRV013 needs a reason: "
                                 "say why the finding is accepted"]


def test_a_waiver_of_an_unknown_rule_or_account_is_an_error():
    text = SECURE + "waivers:\n  - {rule: PRV02, reason: r, accounts: [aoai-secure-eus]}\n"
    errors = spec_errors(text)
    assert len(errors) == 2
    assert "waivers[0].rule: unknown guardrail rule 'PRV02'" in errors[0]
    assert "waivers[0].accounts[0]: the waiver names account 'aoai-secure-eus', which this spec does not declare; " \
           "did you mean 'aoai-secure-eus2'?" in errors[1]


def test_the_readme_shows_the_secure_example_as_it_is():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Secure by default"):]
    block = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", section.index("```yaml"))]
    assert block == EXAMPLE
