"""Loading specs: the example, ${VAR} expansion and YAML details."""
from pathlib import Path
from textwrap import dedent

import pytest

from provisioner.errors import SpecError
from provisioner.spec import load, load_from_text
from provisioner.spec.schema import CapacityRange, CategoryThresholds, RegexItem

REPO = Path(__file__).resolve().parents[2]


def spec_text(resource_group="rg-1", capacity="10", extra_deployment_lines=""):
    return dedent(
        f"""\
        version: 1
        defaults:
          subscription: 00000000-0000-0000-0000-0000000000c1
          resource_group: {resource_group}
          location: eastus2
        accounts:
          - name: acct-1
            deployments:
              - name: chat
                model: gpt-4o
                capacity: {capacity}
        """
    ) + extra_deployment_lines


def test_the_example_spec_loads(monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    spec, desired = load(REPO / "deployments.yaml")

    assert [a.name for a in spec.accounts] == ["aoai-prod-eus2", "aoai-prod-swc"]
    assert spec.deployment_count() == 5
    assert spec.defaults.subscription == "00000000-0000-0000-0000-000000000000"
    assert spec.warnings == ()
    assert desired.spec_name == "aoai-prod"
    assert spec.content_filters["strict"].categories.violence == "medium"
    assert spec.content_filters["strict"].categories.hate == CategoryThresholds(prompt="low", completion="low")
    assert spec.blocklists["banned-terms"].items == ["forbidden phrase", RegexItem(regex="ba[rz]+")]
    assert spec.accounts[1].deployments[0].capacity == CapacityRange(min=10, max=30)


def test_the_example_uses_the_subscription_from_the_environment(monkeypatch):
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555")
    spec, _ = load(REPO / "deployments.yaml")
    assert spec.defaults.subscription == "11111111-2222-3333-4444-555555555555"


def test_spec_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "team-a.yaml"
    path.write_text(spec_text())
    _, desired = load(path)
    assert desired.spec_name == "team-a"


def test_a_set_variable_is_expanded(monkeypatch):
    monkeypatch.setenv("GROUP", "rg-from-env")
    spec, _ = load_from_text(spec_text(resource_group="${GROUP}"))
    assert spec.defaults.resource_group == "rg-from-env"


def test_an_unset_variable_takes_its_default(monkeypatch):
    monkeypatch.delenv("GROUP", raising=False)
    spec, _ = load_from_text(spec_text(resource_group="${GROUP:-fallback}"))
    assert spec.defaults.resource_group == "fallback"


def test_an_empty_variable_takes_its_default_like_the_shell(monkeypatch):
    monkeypatch.setenv("GROUP", "")
    spec, _ = load_from_text(spec_text(resource_group="pre-${GROUP:-fallback}-post"))
    assert spec.defaults.resource_group == "pre-fallback-post"


def test_double_dollar_escapes_a_literal_reference(monkeypatch):
    monkeypatch.setenv("NOTE", "not-used")
    spec, _ = load_from_text(spec_text() + "blocklists:\n  words: {description: '$${NOTE}'}\n")
    assert spec.blocklists["words"].description == "${NOTE}"


def test_an_unquoted_reference_is_typed_after_expansion(monkeypatch):
    monkeypatch.setenv("CAP", "25")
    spec, _ = load_from_text(spec_text(capacity="${CAP}"))
    assert spec.accounts[0].deployments[0].capacity == 25


def test_a_quoted_reference_stays_text(monkeypatch):
    monkeypatch.setenv("CAP", "25")
    with pytest.raises(SpecError) as caught:
        load_from_text(spec_text(capacity='"${CAP}"'))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == "expected a positive whole number or {min: N, max: N}, found '25'"


def test_yaml_words_like_off_and_dates_stay_text():
    text = spec_text(extra_deployment_lines="        version: 2024-11-20\n        content_filter: f\n") + dedent(
        """\
        content_filters:
          f:
            jailbreak: off
            categories: {hate: off}
        """
    )
    spec, _ = load_from_text(text)
    assert spec.accounts[0].deployments[0].version == "2024-11-20"
    assert spec.content_filters["f"].jailbreak == "off"
    assert spec.content_filters["f"].categories.hate == "off"


def test_numbers_are_accepted_as_text_for_versions_and_tags():
    text = spec_text(extra_deployment_lines="        version: 2\n        tags: {cost-center: 4711}\n")
    spec, _ = load_from_text(text)
    deployment = spec.accounts[0].deployments[0]
    assert deployment.version == "2"
    assert deployment.tags == {"cost-center": "4711"}


def test_merge_keys_share_settings():
    text = dedent(
        """\
        version: 1
        defaults: {subscription: 00000000-0000-0000-0000-0000000000c1, resource_group: rg, location: eastus2}
        accounts:
          - name: acct-1
            deployments:
              - &chat {name: chat, model: gpt-4o, version: "2024-11-20", capacity: 10}
              - <<: *chat
                name: chat-2
                capacity: 20
        """
    )
    spec, _ = load_from_text(text)
    second = spec.accounts[0].deployments[1]
    assert (second.name, second.model, second.version, second.capacity) == ("chat-2", "gpt-4o", "2024-11-20", 20)


def test_a_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError) as caught:
        load(tmp_path / "nope.yaml")
    assert caught.value.diagnostics[0].message == "file not found"


def test_warnings_do_not_stop_loading():
    text = spec_text() + dedent(
        """\
        content_filters:
          unused: {jailbreak: block}
        """
    )
    spec, _ = load_from_text(text, "spec.yaml")
    (warning,) = spec.warnings
    assert (warning.severity, warning.line, warning.path) == ("warning", 13, "content_filters.unused")
    assert "used by no deployment" in warning.message


def test_the_cycle_collector_is_back_on_after_loading():
    import gc

    assert gc.isenabled()
    load_from_text(spec_text())
    assert gc.isenabled()
    with pytest.raises(SpecError):
        load_from_text("version: [")
    assert gc.isenabled()
