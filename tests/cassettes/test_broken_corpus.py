"""The broken-cassette corpus: every file gives one exact, helpful line, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replayer.cassettes.load import load_cassette, load_cassettes
from replayer.cassettes.yaml import parse_cassette
from replayer.errors import CassetteError

CORPUS = Path(__file__).parent / "corpus" / "broken"

#: file -> the message after ``<path>:``: line, interaction, field, what was expected.
EXPECTED = {
    "alias_bomb.yaml": '4: alias *a is not allowed: a cassette holds plain data, written out',
    "bad_base64.yaml": '35: interaction 1: response.body.string: !!binary data is not valid base64 (number of data '
                       'characters (5) cannot be 1 more than a multiple of 4)',
    "bad_meta_kind.yaml": "37: interaction 1: meta.kind must be one of api, notification; got 'webhook'",
    "bad_method.yaml": "25: interaction 1: request.method must be an HTTP method such as GET, got '42GET'",
    "bad_timestamp.yaml": "37: interaction 1: meta.recorded_at: '2025-13-45' cannot be read as a date (month must "
                          'be in 1..12); quote it to keep it a string',
    "body_int.yaml": '28: interaction 1: request.body must be a string or binary data (!!binary), got an integer 42',
    "body_list.yaml": '35: interaction 1: response.body.string must be a string or binary data (!!binary), got a '
                      'list',
    "body_string_missing.yaml": '34: interaction 1: response.body.string missing (expected a string or !!binary '
                                'data)',
    "bool_duration.yaml": '37: interaction 1: meta.duration must be a non-negative, finite number of seconds, got '
                          'True',
    "control_char.yaml": '13: interaction 0: invalid YAML: the character U+0007 is not allowed in YAML text (in a '
                         'double-quoted string, write it as an escape such as \\x07)',
    "deep_block.yaml": '103: the YAML structure nests deeper than 100 levels of arrays and objects (the limit)',
    "deep_body.yaml": '35: interaction 1: response.body nests deeper than 100 levels of arrays and objects (the '
                      'limit)',
    "deep_body_101.yaml": '35: interaction 1: response.body nests deeper than 100 levels of arrays and objects '
                          '(the limit)',
    "deep_body_900.yaml": '35: interaction 1: response.body nests deeper than 100 levels of arrays and objects '
                          '(the limit)',
    "deep_body_gzip_header.yaml": '37: interaction 1: response.body nests deeper than 100 levels of arrays and '
                                  'objects (the limit)',
    "deep_flow.yaml": '3: invalid YAML: exceeded maximum nesting depth',
    "deep_flow_in_headers.yaml": '28: interaction 1: invalid YAML: exceeded maximum nesting depth',
    "deep_request_body.yaml": '28: interaction 1: request.body nests deeper than 100 levels of arrays and objects '
                              '(the limit)',
    "duplicate_header.yaml": "30: interaction 1: request.headers.Accept: invalid YAML: duplicate key 'Accept' "
                             '(first on line 28): a mapping holds each key once',
    "duplicate_key.yaml": "26: interaction 1: request.method: invalid YAML: duplicate key 'method' (first on line "
                          '25): a mapping holds each key once',
    "duplicate_top_key.yaml": "2: invalid YAML: duplicate key 'version' (first on line 1): a mapping holds each "
                              'key once',
    "empty.yaml": "1: the file is empty; a cassette is a mapping with 'version: 1' and 'interactions'",
    "header_bad_name.yaml": "25: interaction 1: request.headers: 'Bad Name' is not a valid header name (letters, "
                            "digits and !#$%&'*+.^_`|~-)",
    "header_colon_name.yaml": "25: interaction 1: request.headers: 'X-A: b' is not a valid header name (letters, "
                              "digits and !#$%&'*+.^_`|~-)",
    "header_crlf.yaml": "35: interaction 1: response.headers.X-Note holds a line break or NUL ('a\\r\\nSet-Cookie: "
                        "x=1'), which no HTTP message can carry; remove it",
    "header_lf_request.yaml": "29: interaction 1: request.headers.X-Trace holds a line break or NUL ('one\\ntwo'), "
                              'which no HTTP message can carry; remove it',
    "header_nul.yaml": "29: interaction 1: request.headers.X-Id holds a line break or NUL ('a\\x00b'), which no "
                       'HTTP message can carry; remove it',
    "header_value_mapping.yaml": '29: interaction 1: request.headers.Accept must be a list of strings, got a mapping',
    "headers_list_of_lists.yaml": '29: interaction 1: request.headers.Accept must be a list of strings, got a list',
    "headers_not_mapping.yaml": '28: interaction 1: request.headers must be a mapping, got a list',
    "infinite_duration.yaml": '37: interaction 1: meta.duration must be a non-negative, finite number of seconds, '
                              'got inf',
    "interaction_not_mapping.yaml": "24: interaction 1: an interaction must be a mapping with 'request' and "
                                    "'response', got a string 'just a string'",
    "interactions_not_list.yaml": "3: interactions must be a list (each item starting with '- request:'), got a "
                                  'mapping',
    "invalid_yaml.yaml": '28: invalid YAML: found unexpected end of stream while scanning a quoted scalar that '
                         'starts at line 26',
    "lone_surrogate.yaml": '35: interaction 1: invalid YAML: found invalid Unicode character escape code',
    "meta_not_mapping.yaml": '36: interaction 1: meta must be a mapping (kind, recorded_at, duration), got a '
                             'boolean True',
    "metadata_not_mapping.yaml": "2: metadata must be a mapping, got a string 'recorded yesterday'",
    "method_empty.yaml": "25: interaction 1: request.method must be an HTTP method such as GET, got ''",
    "method_list.yaml": '25: interaction 1: request.method must be a string, got a list',
    "missing_interactions.yaml": "1: interactions missing (expected a list; write 'interactions: []' for none)",
    "missing_method.yaml": '25: interaction 1: request.method missing (expected a string)',
    "missing_request.yaml": '24: interaction 1: request missing (expected a mapping)',
    "missing_status_code.yaml": '31: interaction 1: response.status.code missing (expected an integer)',
    "nan_duration.yaml": '37: interaction 1: meta.duration must be a non-negative, finite number of seconds, got nan',
    "negative_duration.yaml": '37: interaction 1: meta.duration must be a non-negative, finite number of seconds, '
                              'got -1.5',
    "not_utf8.yaml": '5: not UTF-8 text: byte 0xe9 cannot be decoded (save the file as UTF-8)',
    "nul_byte.yaml": '13: interaction 0: invalid YAML: the character U+0000 is not allowed in YAML text (in a '
                     'double-quoted string, write it as an escape such as \\x07)',
    "python_object.yaml": '28: interaction 1: request.body: tag !!python/object/apply:os.system is not allowed: a '
                          'cassette holds plain data (strings, numbers, lists, mappings and !!binary)',
    "request_not_mapping.yaml": "24: interaction 1: request must be a mapping, got a string 'GET "
                                "http://o2ims.example/x'",
    "response_body_missing.yaml": "30: interaction 1: response.body missing (expected a mapping with 'string')",
    "response_not_mapping.yaml": '29: interaction 1: response must be a mapping, got an integer 200',
    "set_tag.yaml": '28: interaction 1: request.body must be a string or binary data (!!binary), got set',
    "status_999.yaml": '31: interaction 1: response.status.code must be between 100 and 599, got 999',
    "status_bool.yaml": '31: interaction 1: response.status.code must be an integer, got a boolean True',
    "status_float.yaml": '31: interaction 1: response.status.code must be an integer, got a number 200.5',
    "status_huge.yaml": "31: interaction 1: response.status.code: '9999999999999999999999999999999999999'... "
                        'cannot be read as a number (Exceeds the limit (4300 digits) for integer string '
                        'conversion); quote it to keep it a string',
    "status_missing.yaml": '30: interaction 1: response.status missing (expected a mapping or an integer)',
    "status_negative.yaml": '31: interaction 1: response.status.code must be between 100 and 599, got -1',
    "status_string.yaml": "31: interaction 1: response.status.code must be an integer, got a string 'OK'",
    "string_duration.yaml": '37: interaction 1: meta.duration must be a non-negative, finite number of seconds, '
                            "got 'fast'",
    "tab_indent.yaml": '25: interaction 1: invalid YAML: a tab in the indentation (YAML indents with spaces only)',
    "top_level_list.yaml": "1: a cassette must be a mapping with 'version' and 'interactions', got a list",
    "top_level_scalar.yaml": "1: a cassette must be a mapping with 'version' and 'interactions', got a string",
    "truncated.yaml": "31: interaction 1: response.status must be a mapping or an integer, got a string 'co'",
    "two_documents.yaml": '36: invalid YAML: but found another document expected a single document in the stream '
                          'that starts at line 1',
    "unknown_tag.yaml": '28: interaction 1: request.body.x: tag !custom is not allowed: a cassette holds plain '
                        'data (strings, numbers, lists, mappings and !!binary)',
    "uri_mapping.yaml": '26: interaction 1: request.uri must be a string, got a mapping',
    "uri_not_string.yaml": '26: interaction 1: request.uri must be a string, got an integer 42',
    "version_missing.yaml": "1: version must be 1 (vcrpy's cassette format), got None",
    "version_string.yaml": "1: version must be 1 (vcrpy's cassette format), got '1'",
    "wrong_version.yaml": "1: version must be 1 (vcrpy's cassette format), got 2",
}


def test_every_corpus_file_has_an_expected_message() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 60


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_cassette_message(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(CassetteError) as exc:
        load_cassette(path)
    assert str(exc.value) == f"{path}:{EXPECTED[name]}"
    assert "\n" not in str(exc.value)
    assert exc.value.path == str(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_text_and_bytes_give_the_same_message(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    with pytest.raises(CassetteError) as from_bytes:
        parse_cassette(data, name)
    if name == "not_utf8.yaml":
        return
    with pytest.raises(CassetteError) as from_text:
        parse_cassette(data.decode("utf-8"), name)
    assert str(from_text.value) == str(from_bytes.value) == f"{name}:{EXPECTED[name]}"


def test_load_cassettes_stops_at_the_broken_file(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "status_999.yaml", tmp_path / "b.yaml")
    with pytest.raises(CassetteError, match=r"b\.yaml:31: interaction 1: response\.status\.code"):
        load_cassettes([tmp_path])


def test_missing_file_and_folder() -> None:
    with pytest.raises(CassetteError, match="no such file"):
        load_cassette(CORPUS / "nope.yaml")
    with pytest.raises(CassetteError, match="is a directory"):
        load_cassette(CORPUS)


@pytest.mark.parametrize("name", ["status_999.yaml", "tab_indent.yaml", "python_object.yaml"])
def test_cli_prints_one_line_and_exits_2(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    shutil.copy(CORPUS / name, target)
    proc = subprocess.run([sys.executable, "-m", "replayer", "validate", str(target)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert f"{target}:{EXPECTED[name]}" in proc.stderr
