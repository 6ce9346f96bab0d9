"""Every spec test runs with both YAML parsers: libyaml (when PyYAML was built with it) and PyYAML's
own. The diagnostics must be the same either way. A module that compares the parsers itself sets
COMPARES_PARSERS and runs once."""
import pytest

from provisioner.spec import loader


def pytest_generate_tests(metafunc):
    if "yaml_parser" in metafunc.fixturenames:
        compares = getattr(metafunc.module, "COMPARES_PARSERS", False)
        metafunc.parametrize("yaml_parser", ["python"] if compares else ["libyaml", "python"], indirect=True)


@pytest.fixture(autouse=True)
def yaml_parser(request, monkeypatch):
    if request.param not in loader.PARSERS:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(loader, "PARSER", request.param)
    return request.param
