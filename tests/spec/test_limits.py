"""Input that cannot hurt: an alias bomb, deep nesting and huge files each end in one clear
file:line error, quickly, instead of a minute of work and MemoryError or RecursionError."""
import signal

import pytest
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.errors import SpecError
from provisioner.spec import load, load_from_text
from provisioner.spec.loader import MAX_CHARACTERS, MAX_DEPTH, MAX_NODES

runner = CliRunner()

# "Billion laughs": each line repeats the one above nine times; 1.2 KB that means 10^9 values.
ALIAS_BOMB = "version: 1\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi")
)
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_LINE = "# " + "x" * 97 + "\n"  # 100 characters


def huge_file_text() -> str:
    """2 MB: `version: 1` (11 characters with its line end), then comment lines of 100 characters."""
    return "version: 1\n" + HUGE_LINE * 20_000 + "accounts: []\n"


# Character 1,048,577 (the first one too many, index 1,048,576) is on line 2 + (1,048,576 - 11) // 100,
# column (1,048,576 - 11) % 100 + 1.
HUGE_AT = (2 + (MAX_CHARACTERS - 11) // 100, (MAX_CHARACTERS - 11) % 100 + 1)
SIZE_MESSAGE = (
    "the file is longer than 1,048,576 characters, the most Bicep's loadYamlContent() reads"
    " (infra/main.bicep reads this file with it); split the accounts over several specs"
)
EXPANDS_MESSAGE = (
    "the document expands to more than 1,000,000 values here: aliases repeat everything they refer to,"
    " every time they are used"
)
DEPTH_MESSAGE = "the document nests more than 64 levels deep here (aliases included); a spec needs fewer than 10"


@pytest.fixture(autouse=True)
def hang_guard():
    """Not a speed test: only stops a regression from hanging the suite (each case takes milliseconds)."""
    def give_up(*_):
        raise TimeoutError("hostile input was not stopped within 60 s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def only_error(text: str):
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    (error,) = caught.value.diagnostics
    return error


def test_the_limits():
    assert (MAX_CHARACTERS, MAX_DEPTH, MAX_NODES) == (1_048_576, 64, 1_000_000)


def test_an_alias_bomb_stops_where_it_expands_past_the_limit():
    # Values read, keys included: up to f (line 7) 672,612; g's key and list make 672,614, and its
    # first *f repeats f's 597,871: past 1,000,000 at line 8, column 8.
    error = only_error(ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 1500
    assert (error.line, error.column, error.path, error.message) == (8, 8, "", EXPANDS_MESSAGE)


def test_aliases_within_the_limit_still_work():
    text = ALIAS_BOMB.split("f:")[0] + "version_again: *e\n"  # e: 66,430 values, read twice
    with pytest.raises(SpecError) as caught:  # not a spec, but read completely: the schema complains
        load_from_text(text, "spec.yaml")
    assert {d.message.split(";")[0] for d in caught.value.diagnostics} >= {"unknown field 'a'"}


def test_100000_levels_of_brackets():
    error = only_error(DEEP)
    assert (error.line, error.column, error.path, error.message) == (1, MAX_DEPTH + 1, "", DEPTH_MESSAGE)


def test_deep_block_nesting():
    error = only_error("version: 1\naccounts:\n" + "- " * 100_000 + "x\n")
    # The document's mapping is level 1; the k-th "- " opens level k + 1 at column 2k - 1.
    assert (error.line, error.column, error.message) == (3, 2 * 64 - 1, DEPTH_MESSAGE)


def test_nesting_through_aliases_counts_too():
    """Each alias is read where it is used, so its depth adds to the depth there."""
    levels = ["l0: &l0 [x]\n"] + [f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 80)]
    error = only_error("".join(levels))
    # Read in place, l_i nests i + 2 levels (i + 1 lists and x) under the document's mapping:
    # l62's alias *l61 is the first to pass 64 levels (line 63, column 12).
    assert (error.line, error.column, error.message) == (63, 12, DEPTH_MESSAGE)


def test_a_chain_of_merge_keys_is_nesting():
    lines = ["m0: &m0 {k: v}\n"] + [f"m{i}: &m{i} {{<<: *m{i - 1}}}\n" for i in range(1, 200)]
    error = only_error("".join(lines))
    assert error.message == DEPTH_MESSAGE


def test_an_alias_inside_its_own_anchor():
    error = only_error("version: 1\naccounts: &loop [*loop]\n")
    assert (error.line, error.column, error.message) == (2, 18, "alias *loop is used inside its own anchor (a loop)")


def test_a_2_mb_file_is_refused_at_the_first_character_too_many(tmp_path):
    path = tmp_path / "deployments.yaml"
    path.write_text(huge_file_text())
    assert path.stat().st_size > 2_000_000
    with pytest.raises(SpecError) as caught:
        load(path)
    (error,) = caught.value.diagnostics
    assert (error.file, (error.line, error.column), error.path, error.message) == (str(path), HUGE_AT, "",
                                                                                     SIZE_MESSAGE)
    error = only_error(huge_file_text())  # the same from text
    assert ((error.line, error.column), error.message) == (HUGE_AT, SIZE_MESSAGE)


def test_a_file_of_exactly_the_limit_is_read():
    spec = ("version: 1\ndefaults: {subscription: 00000000-0000-0000-0000-0000000000c1, resource_group: rg,"
            " location: eastus2}\naccounts: []\n")
    padding = MAX_CHARACTERS - len(spec)
    text = spec + HUGE_LINE * (padding // 100) + "#" * (padding % 100 - 1) + "\n"
    assert len(text) == MAX_CHARACTERS
    loaded, _ = load_from_text(text, "spec.yaml")
    assert loaded.accounts == []


@pytest.mark.parametrize("text, where, message", [
    (ALIAS_BOMB, "8:8", EXPANDS_MESSAGE),
    (DEEP, f"1:{MAX_DEPTH + 1}", DEPTH_MESSAGE),
    (huge_file_text(), "{}:{}".format(*HUGE_AT), SIZE_MESSAGE),
], ids=["alias-bomb", "deep", "2-MB"])
def test_provision_validate_reports_hostile_input_in_one_line(tmp_path, text, where, message):
    path = tmp_path / "deployments.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"{path}:{where}: {message}\n"
