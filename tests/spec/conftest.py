"""Every spec test runs with both YAML parsers: libyaml (when PyYAML was built with it) and PyYAML's
own. The diagnostics must be the same either way."""
import pytest

from provisioner.spec import loader


@pytest.fixture(autouse=True, params=["libyaml", "python"])
def yaml_parser(request, monkeypatch):
    if request.param not in loader.PARSERS:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(loader, "PARSER", request.param)
    return request.param
