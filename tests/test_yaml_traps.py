"""YAML traps: through the real `qms validate` on a copy of the example, and the loader itself.

Every trap must end in exit code 1 with a finding at `path:line` whose words say what is wrong,
and never in a traceback or an internal error.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import Result

from gitqms.safeyaml import LoadError, decode_record_bytes, load_yaml
from toolkit.cli import qms, qms_command

BOMB = "".join(
    [
        'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n',
        *(f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 10)}]\n" for n in range(1, 10)),
    ]
)


# --- helpers ------------------------------------------------------------------------------


def first_record(repo: Path, folder: str) -> Path:
    """The first record file of a folder of the example copy."""
    files = sorted(p for p in (repo / folder).iterdir() if p.suffix in (".md", ".yaml"))
    assert files, f"the example has no records in {folder}/"
    return files[0]


def rel(repo: Path, path: Path) -> str:
    return path.relative_to(repo).as_posix()


def edit(path: Path, pattern: str, replacement: str) -> int:
    """Replace the first match of a multi-line regex; return the 1-based line where it starts."""
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match is not None, f"{pattern!r} not found in {path}"
    path.write_text(
        text[: match.start()] + match.expand(replacement) + text[match.end() :], encoding="utf-8"
    )
    return text.count("\n", 0, match.start()) + 1


def append(path: Path, text: str) -> int:
    """Append lines to a file; return the 1-based line of the first appended line."""
    current = path.read_text(encoding="utf-8")
    if not current.endswith("\n"):
        current += "\n"
    path.write_text(current + text, encoding="utf-8")
    return current.count("\n") + 1


def validate(repo: Path) -> Result:
    return qms("validate", repo=repo)


def assert_clean_failure(result: Result) -> None:
    """Exit 1 (findings), no traceback anywhere, no internal error."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr


def finding_line(result: Result, location: str) -> str:
    """The output line of the error finding at `location` ("path:line" or "path")."""
    prefix = f"{location}: error: "
    lines = [line for line in result.stdout.splitlines() if line.startswith(prefix)]
    assert lines, f"no error at {location} in:\n{result.stdout}"
    return lines[0]


def fix_after(result: Result, line: str) -> str:
    """The '    fix: …' line printed after a finding line."""
    lines = result.stdout.splitlines()
    following = lines[lines.index(line) + 1]
    assert following.startswith("    fix: "), following
    return following


# --- through `qms validate` ----------------------------------------------------------------


@pytest.mark.parametrize("folder", ["capa", "deviations", "sops"])
def test_duplicate_key_names_the_key_and_both_lines(example: Path, folder: str) -> None:
    path = first_record(example, folder)
    first = edit(path, r"^owner: (.*)$", r"owner: \1\nowner: a.weber")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{first + 1}")
    assert "duplicate key 'owner'" in line
    assert f"(first given on line {first})" in line
    assert line.endswith("[file.unreadable]")


@pytest.mark.parametrize(("folder", "field"), [("capa", "opened"), ("sops", "effective_date")])
def test_unquoted_date_validates_where_a_date_is_expected(
    example: Path, folder: str, field: str
) -> None:
    path = first_record(example, folder)
    edit(path, rf'^{field}: "([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})"$', rf"{field}: \1")
    assert re.search(rf"^{field}: [0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$", path.read_text(), re.M)
    result = validate(example)
    assert result.exit_code == 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "No", "YES"])
def test_yes_no_on_off_for_a_boolean_says_write_true_or_false(example: Path, word: str) -> None:
    path = first_record(example, "deviations")
    number = edit(path, r"^patient_involved: .*$", f"patient_involved: {word}")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert f"'patient_involved' must be true or false, not the text '{word}'" in line
    assert line.endswith("[schema.type]")
    fix = fix_after(result, line)
    assert "write true or false" in fix
    assert f"'{word}' is kept as text" in fix


def test_version_1_10_is_a_type_finding_not_version_1_1(example: Path) -> None:
    path = first_record(example, "sops")
    number = edit(path, r"^version: .*$", "version: 1.10")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "'version' must be a whole number" in line
    assert line.endswith("[schema.type]")


def test_version_010_stays_text_and_is_a_type_finding(example: Path) -> None:
    path = first_record(example, "sops")
    number = edit(path, r"^version: .*$", "version: 010")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "'version' must be a whole number, not the text '010'" in line


def test_alias_bomb_is_refused_quickly(example: Path) -> None:
    path = first_record(example, "deviations")
    start = append(path, BOMB)
    began = time.perf_counter()
    result = validate(example)
    elapsed = time.perf_counter() - began
    assert_clean_failure(result)
    assert elapsed < 5, f"validate took {elapsed:.1f} s on an alias bomb"
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(f"{rel(example, path)}:") and " error: " in line
    ]
    assert len(lines) == 1, result.stdout
    number = int(lines[0].split(":")[1])
    assert start <= number < start + 10
    assert "values once aliases are expanded" in lines[0]
    assert "remove the anchors (&) and aliases (*)" in fix_after(result, lines[0])


def test_recursive_alias_is_refused(example: Path) -> None:
    path = first_record(example, "capa")
    start = append(path, "loop: &loop\n  - *loop\n")
    result = validate(example)
    assert_clean_failure(result)
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(f"{rel(example, path)}:") and " error: " in line
    ]
    assert len(lines) == 1, result.stdout
    assert int(lines[0].split(":")[1]) in (start, start + 1)
    assert "an alias that contains itself" in lines[0]


def test_deeply_nested_flow_lists_give_a_finding_not_a_crash(example: Path) -> None:
    # A 60 KB file, far below the size limit. Run in a child process: if the parser crashes
    # the interpreter, only the child dies and the test reports it.
    path = first_record(example, "capa")
    depth = 30_000
    start = append(path, "nested: " + "[" * depth + "]" * depth + "\n")
    done = qms_command("--repo", example, "validate", check=False, timeout=120)
    assert done.returncode == 1, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr
    lines = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(
            (f"{rel(example, path)}:{start}: error: ", f"{rel(example, path)}: error: ")
        )
    ]
    assert len(lines) == 1, done.stdout
    assert "nest" in lines[0]


def test_ten_megabyte_file_is_refused_by_size(example: Path) -> None:
    path = first_record(example, "capa")
    with path.open("ab") as handle:
        handle.write(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, rel(example, path))  # the whole file: no line number
    assert "the file is 10.0 MiB" in line
    assert "over the 1024 KiB limit for a record" in line
    assert line.endswith("[file.unreadable]")


@pytest.mark.parametrize("folder", ["deviations", "sops"])
def test_binary_file_with_nul_bytes_is_refused(example: Path, folder: str) -> None:
    path = first_record(example, folder)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:3")  # the NUL follows the 2nd newline
    assert "the file is binary (it contains a NUL byte)" in line


def test_invalid_utf8_names_the_line(example: Path) -> None:
    path = first_record(example, "capa")
    number = edit(path, r"^owner: .*$", "owner: LATIN-1-HERE")
    path.write_bytes(path.read_bytes().replace(b"LATIN-1-HERE", b'"Caf\xe9 owner"', 1))
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "not valid UTF-8" in line
    assert "0xe9" in line


def test_invalid_utf8_in_an_sop_body_names_the_body_line(example: Path) -> None:
    path = first_record(example, "sops")
    number = append(path, "Latin-1 text here\n")
    path.write_bytes(path.read_bytes().replace(b"Latin-1 text here", b"Stra\xdfe", 1))
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "not valid UTF-8" in line


def test_python_object_tag_is_refused_and_not_executed(example: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = first_record(example, "capa")
    number = edit(
        path, r"^title: .*$", f'title: !!python/object/apply:os.system ["touch {marker}"]'
    )
    result = validate(example)
    assert_clean_failure(result)
    assert not marker.exists()
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "python/object/apply:os.system" in line
    assert "not allowed" in line


@pytest.mark.parametrize(
    ("folder", "field", "tagged", "words"),
    [
        ("capa", "opened", "!!timestamp 2026-01-01", "timestamp"),
        ("capa", "title", "!!binary aGVsbG8gd29ybGQ=", "binary"),
        ("deviations", "title", "!include other.yaml", "!include"),
        ("sops", "title", "!!python/name:os.system", "python/name:os.system"),
    ],
)
def test_explicit_tag_is_refused(
    example: Path, folder: str, field: str, tagged: str, words: str
) -> None:
    path = first_record(example, folder)
    number = edit(path, rf"^{field}: .*$", f"{field}: {tagged}")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "tag" in line
    assert words in line
    assert "not allowed" in line


def test_merge_key_is_refused_as_a_merge_key(example: Path) -> None:
    path = first_record(example, "deviations")
    number = append(path, '<<: {title: "Merged title"}\n')
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "merge" in line.lower()


def test_second_yaml_document_is_refused(example: Path) -> None:
    path = first_record(example, "capa")
    number = append(path, "---\nid: CAPA-2026-0999\n")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "more than one YAML document" in line


def test_yaml_syntax_error_names_the_line(example: Path) -> None:
    path = first_record(example, "deviations")
    number = edit(path, r"^title: .*$", "title: [unclosed, list")
    result = validate(example)
    assert_clean_failure(result)
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(f"{rel(example, path)}:") and "YAML syntax error" in line
    ]
    assert len(lines) == 1, result.stdout
    assert int(lines[0].split(":")[1]) in (number, number + 1)


def test_control_character_is_refused_and_not_sent_to_the_terminal(example: Path) -> None:
    path = first_record(example, "capa")
    number = edit(path, r"^title: .*$", 'title: "\x1b[2J cleared screen"')
    result = validate(example)
    assert_clean_failure(result)
    assert "\x1b" not in result.stdout
    line = finding_line(result, f"{rel(example, path)}:{number}")
    assert "U+001B" in line
    assert "not allowed" in line


def test_unclosed_front_matter_is_refused(example: Path) -> None:
    path = first_record(example, "sops")
    front = path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    path.write_text(front + "\n\n# Body\n\nNo closing fence above.\n", encoding="utf-8")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:1")
    assert "front-matter block" in line
    assert "never closed" in line


def test_sop_without_front_matter_is_refused(example: Path) -> None:
    path = first_record(example, "sops")
    path.write_text("# A procedure\n\nJust Markdown, no fields.\n", encoding="utf-8")
    result = validate(example)
    assert_clean_failure(result)
    line = finding_line(result, f"{rel(example, path)}:1")
    assert "does not start with a front-matter block" in line


# --- the loader itself ---------------------------------------------------------------------


def test_load_yaml_keeps_json_types() -> None:
    data = load_yaml("a: true\nb: 12\nc: 1.5\nd: null\ne: text\nf: [1, x]\n").data
    assert data == {"a": True, "b": 12, "c": 1.5, "d": None, "e": "text", "f": [1, "x"]}


def test_load_yaml_keeps_unquoted_date_as_text() -> None:
    assert load_yaml("opened: 2026-01-01\n").data == {"opened": "2026-01-01"}


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "Off"])
def test_load_yaml_keeps_yes_no_on_off_as_text(word: str) -> None:
    assert load_yaml(f"flag: {word}\n").data == {"flag": word}


@pytest.mark.parametrize("number", ["010", "0x10", "0o10", "1:30", "1_000"])
def test_load_yaml_keeps_leading_zero_and_other_yaml11_numbers_as_text(number: str) -> None:
    assert load_yaml(f"value: {number}\n").data == {"value": number}


def test_load_yaml_duplicate_key_names_the_key_and_both_lines() -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml("b: 1\na: 2\nb: 3\n")
    assert caught.value.line == 3
    assert caught.value.message == "duplicate key 'b' (first given on line 1)"


def test_load_yaml_duplicate_key_with_line_offset_shifts_both_lines() -> None:
    # Front matter: line 1 of the YAML is line 2 of the file.
    with pytest.raises(LoadError) as caught:
        load_yaml("a: 1\na: 2\n", line_offset=1)
    assert caught.value.line == 3
    assert caught.value.message == "duplicate key 'a' (first given on line 2)"


def test_load_yaml_alias_bomb_is_refused_quickly() -> None:
    began = time.perf_counter()
    with pytest.raises(LoadError) as caught:
        load_yaml(BOMB)
    assert time.perf_counter() - began < 2
    assert "values once aliases are expanded" in caught.value.message
    assert 1 <= caught.value.line <= 10


@pytest.mark.parametrize("text", ["a: &a\n  - *a\n", "a: &a\n  b: *a\n"])
def test_load_yaml_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml(text)
    assert "an alias that contains itself" in caught.value.message


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['echo hi']",
        "!!timestamp 2026-01-01",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!custom value",
    ],
)
def test_load_yaml_refuses_explicit_tags(tagged: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml(f"a: 1\nb: {tagged}\n")
    assert caught.value.line == 2
    assert "tag" in caught.value.message
    assert "not allowed" in caught.value.message


def test_load_yaml_refuses_merge_key() -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml("base: &base\n  x: 1\nother:\n  <<: *base\n  y: 2\n")
    assert caught.value.line == 4
    assert "merge" in caught.value.message.lower()


def test_load_yaml_refuses_a_second_document() -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml("a: 1\n---\nb: 2\n")
    assert caught.value.line == 2
    assert "more than one YAML document" in caught.value.message


def test_load_yaml_refuses_a_key_that_is_not_text() -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml("title: x\n1: a\n")
    assert caught.value.line == 2
    assert caught.value.message == "the key '1' is not text"


def test_load_yaml_maps_values_to_lines() -> None:
    loaded = load_yaml("a: 1\nb:\n  c: 2\n  d: [x, y]\n", line_offset=1)
    assert loaded.lines[("a",)] == 2
    assert loaded.lines[("b", "c")] == 4
    assert loaded.lines[("b", "d", 1)] == 5


def test_decode_refuses_a_file_over_the_limit_without_a_line() -> None:
    with pytest.raises(LoadError) as caught:
        decode_record_bytes(b"x" * 2 * 1024 * 1024)
    assert caught.value.line == 0
    assert caught.value.message == "the file is 2.0 MiB, over the 1024 KiB limit for a record"


def test_decode_refuses_nul_bytes_naming_the_line() -> None:
    with pytest.raises(LoadError) as caught:
        decode_record_bytes(b"a: 1\nb: 2\nc: \x00\n")
    assert caught.value.line == 3
    assert "binary" in caught.value.message
    assert "NUL" in caught.value.message


def test_decode_refuses_invalid_utf8_naming_the_line() -> None:
    with pytest.raises(LoadError) as caught:
        decode_record_bytes(b"a: 1\nb: 2\nc: caf\xe9\n")
    assert caught.value.line == 3
    assert caught.value.message == "the text is not valid UTF-8 (byte 0xe9 at offset 16)"


def test_decode_drops_a_byte_order_mark() -> None:
    assert decode_record_bytes("\ufeffa: é\n".encode()) == "a: é\n"


# --- the version a signature names: top-level fields only ------------------------------------


def _versions_agree(record: str, content: bytes) -> None:
    from gitqms.signatures.claims import record_data, stated_version, version_of

    assert stated_version(content, record) == version_of(record_data(content, record))


def test_stated_version_agrees_with_the_full_parse_on_every_example_record() -> None:
    from toolkit.cli import ROOT

    files = [*ROOT.glob("sops/*.md"), *ROOT.glob("capa/*.yaml"), *ROOT.glob("deviations/*.yaml")]
    assert len(files) >= 5
    for path in files:
        _versions_agree(path.stem, path.read_bytes())


@pytest.mark.parametrize(
    "text",
    [
        "id: X\nversion: 3\n",
        "version: 3\nversion: 4\n",  # duplicate: no version at all, in both readers
        "title: 'a\nversion: 9'\nversion: 2\n",  # the column-0 line inside quotes is not a key
        'title: "a\nversion: 9"\n',
        "tags: [a,\nversion: 9]\n",
        "<<: {version: 9}\n",  # merge keys are refused
        "? [a]\n: 1\nversion: 2\n",  # a non-text key
        "version: !!str 5\n",  # a tag
        "version: 1.10\n",
        "version: 0010\n",
        "state: closed\n",
        "state: true\n",
        "version: {a: 1}\n",
        "- version: 1\n",
        "version: 3\nnotes: *missing\n",  # a syntax error anywhere
        "",
    ],
)
def test_stated_version_agrees_with_the_full_parse_on_awkward_yaml(text: str) -> None:
    _versions_agree("CAPA-2026-0001", text.encode())
    _versions_agree("SOP-0001", f"---\n{text}---\nbody\n".encode())


def test_stated_version_reads_the_version_even_when_another_field_is_broken() -> None:
    """A nested error is validation's business; the version the record states is still 3."""
    from gitqms.signatures.claims import record_data, stated_version

    content = b"id: CAPA-2026-0001\nstate: open\nowner: {a: 1, a: 2}\n"
    assert record_data(content, "CAPA-2026-0001") is None
    assert stated_version(content, "CAPA-2026-0001") == "open"


# Lines that open, close or continue every construct that could hide a line from a reader that
# looks at lines only: quotes, flow brackets, block texts, plain texts that run on, sequences.
_FRAGMENTS = [
    "version: 3",
    "version: 4 # bumped",
    "version: '5'",
    'version: "6"',
    "version: 07",
    "version: 1.5",
    "version: true",
    "version:",
    "state: closed",
    "state: action-plan",
    "state: null",
    "title: plain words",
    'title: "quoted: with colon"',
    'title: "opens a quote',
    "title: 'opens a quote",
    'closes"',
    "closes'",
    "tags: [a, b]",
    "tags: [a,",
    "b]",
    "owner: {id: x}",
    "text: |",
    "text: >-",
    "  a line of text",
    '  "a quoted line',
    "  version: 9",
    "  - item",
    "  - version: 8",
    "  nested: value",
    "    deeper",
    "- top item",
    "# a comment",
    "  # an indented comment",
    "",
    "anchor: &a 1",
    "alias: *a",
    "tagged: !!str 2",
    "version: 10",
    "version : 11",
    "? version",
    ": 12",
    "version:\t13",
    "x: a #b 'c",
]


def test_the_version_a_signature_names_never_disagrees_with_the_parser() -> None:
    """On texts mixing every construct that could hide a line, the version a signature names
    is the parser's, whether or not the text is YAML at all (then there is none)."""
    import random

    from gitqms.safeyaml import load_fields
    from gitqms.signatures.claims import stated_version, version_of

    rng = random.Random(20261122)
    named = 0
    for _ in range(30000):
        text = "\n".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 7))) + "\n"
        try:
            parsed = version_of(load_fields(text, frozenset({"version", "state"})))
        except LoadError:
            parsed = None  # not YAML at all: no version
        assert stated_version(text.encode(), "CAPA-2026-0001") == parsed, text
        named += parsed is not None
    assert named > 1000, named
