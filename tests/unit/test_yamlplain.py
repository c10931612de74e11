"""The plain-YAML reader against PyYAML: the same data, or the text left to PyYAML.

Whatever :func:`hsvc.adapters.yamlplain.load` returns must be what PyYAML's
``SafeLoader`` (and the C loader, and the bounded path of
:mod:`hsvc.adapters.kubeconfig`) builds from the same text; text PyYAML refuses
must never be read here, so its errors and their wording stay PyYAML's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hsvc.adapters import kubeconfig, yamlplain
from hsvc.adapters.yamlplain import NOT_PLAIN
from hsvc.errors import ApiUnreachableError

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

KUBECTL = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=
    server: https://127.0.0.1:6443
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    namespace: "123"
    user: kind-kind
  name: kind-kind
- context:
    cluster: arn:aws:eks:eu-west-1:123456789012:cluster/prod
    user: kubernetes-admin@kubernetes
  name: 'prod: east'
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.e30.c2ln
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - eks
      - get-token
      - --cluster-name
      - prod
      command: aws
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


def pyyaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.SafeLoader)


def read_back(text: str) -> Any:
    """The reader's answer, checked against PyYAML's whenever it gives one."""
    mine = yamlplain.load(text)
    if mine is not NOT_PLAIN:
        assert mine == pyyaml(text)
        assert repr(mine) == repr(pyyaml(text))  # same key order, same types (True is not 1)
        assert mine == yaml.load(text, Loader=yaml.CSafeLoader)
        assert mine == kubeconfig._parse(text, yaml.SafeLoader)  # within yamlbounds' limits
    return mine


def test_a_kubeconfig_as_kubectl_writes_it_is_read_here() -> None:
    data = read_back(KUBECTL)
    assert data is not NOT_PLAIN
    assert data["users"][1]["user"]["exec"]["args"][2] == "--cluster-name"
    assert data["contexts"][0]["context"]["namespace"] == "123"
    assert data["preferences"] == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: b\n", {"a": "b"}),
        ("a:\n", {"a": None}),
        (
            "a: ~\nb: Null\nc: yes\nd: OFF\ne: tRue\n",
            {"a": None, "b": None, "c": True, "d": False, "e": "tRue"},
        ),
        ("a: x:y\n", {"a": "x:y"}),
        ("a: x  y\n", {"a": "x  y"}),
        ("a:\n  - x\n  - y: z\n    w: []\n", {"a": ["x", {"y": "z", "w": []}]}),
        ("- a\n- b: c\n", ["a", {"b": "c"}]),
        ("-   a: b\n    c: d\n", [{"a": "b", "c": "d"}]),
        ("a:\n- b:\n  - c\n  d: e\n", {"a": [{"b": ["c"], "d": "e"}]}),
        ('a: ""\n', {"a": ""}),
        ("a: ' x '\n", {"a": " x "}),
    ],
)
def test_the_plain_subset_reads_as_pyyaml_reads_it(text: str, value: Any) -> None:
    assert read_back(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty: PyYAML's None and the caller's message
        "a: 1\n",  # numbers, dates: PyYAML's resolvers
        "a: .inf\n",
        "a: 2001-12-14\n",
        "a: -1\n",
        "a: +x\n",
        "a: b # c\n",  # comments
        "a: b\n  c\n",  # a multi-line scalar
        "a: &x b\nc: *x\n",
        "a: !!str b\n",
        "a: |\n  b\n",
        "a: b\na: c\n",  # duplicate keys: PyYAML keeps the last
        "a: b: c\n",  # errors
        "a: b\n - c\n",
        "- a\nb: c\n",
        "a: b\nc\n",
        "a:\n  b: c\n d: e\n",
        "  a: b\n",
        "--- a: b\n",
        "a: 'b''c'\n",
        'a: "b\\tc"\n',
        "a: { b: c }\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: café\n",
        "true: a\n",
        '"a": b\n',
        "a:\n  b\n",
        "-\n",
        "- - a\n",
        "x" * 200 + ": a\n",
        "a:\n" + "".join(" " * (2 * i) + "- b:\n" for i in range(1, 40)),
    ],
)
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert read_back(text) is NOT_PLAIN


# Structures of the shapes a kubeconfig has, written by PyYAML's emitter in block style:
# the reader must read every one of them back (strings here need no quotes or need
# only plain quotes) as PyYAML does.
WORD = st.text(alphabet="abcXYZ019-._/:@=+~ ", min_size=1, max_size=12)
SCALAR = st.one_of(
    WORD, st.sampled_from(["true", "False", "null", "on", "y", "n", ""]), st.none(), st.booleans()
)
KEY = st.text(alphabet="abcKEY-_.", min_size=1, max_size=10).filter(lambda k: k[0].isalpha())
TREE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEY, inner, max_size=4)),
    max_leaves=25,
)


@FAST
@given(
    st.dictionaries(KEY, TREE, min_size=1, max_size=6),
    st.sampled_from([2, 4]),
    st.booleans(),
)
def test_what_pyyaml_writes_in_block_style_reads_back(
    data: dict[str, Any], indent: int, sort: bool
) -> None:
    text = yaml.safe_dump(
        data, default_flow_style=False, indent=indent, sort_keys=sort, width=10_000
    )
    assert read_back(text) in (NOT_PLAIN, data)


# Lines of the subset's shapes at random indents, with keys and values from YAML's
# corner cases: most are valid YAML, many are not (misaligned, a value where a key
# belongs): whatever the reader accepts, PyYAML must accept and build alike.
NAME = st.sampled_from(
    ["a", "b", "key-1", "yes", "No", "null", "~", "x:y", "a b", "-a", "--b", "_c", "/d"]
)
VALUE = st.one_of(
    NAME,
    st.sampled_from(
        [
            "{}",
            "[]",
            '""',
            "''",
            '"q: r"',
            "'s t'",
            "a: b",
            "-",
            "- a",
            "---",
            "1",
            ".5",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "?",
            "%",
            "@",
            "`",
            "=",
            "<<",
            "a  b",
            "v:",
            "u,v",
            "[w]",
            "x ?y",
            "'z'a",
        ]
    ),
)
LINE = st.one_of(
    st.tuples(NAME, st.just(":")),
    st.tuples(NAME, st.just(": "), VALUE),
    st.tuples(st.just("- "), VALUE),
    st.tuples(st.just("- "), NAME, st.just(": "), VALUE),
    st.tuples(st.just("- "), NAME, st.just(":")),
    st.tuples(st.just("-   "), NAME, st.just(": "), VALUE),
)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 0, 0, 1, 2, 2, 2, 4, 4, 6]), LINE), min_size=1, max_size=10
    )
)
@example([(0, ("a", ": ", "b")), (2, ("c",))])
@example([(0, ("- ", "a", ": ", "b")), (2, ("c", ": ", "-"))])
@example([(0, ("a", ":")), (0, ("- ", "b")), (0, ("c", ": ", "{}"))])
def test_text_of_yaml_shapes_is_read_as_pyyaml_reads_it_or_left_to_it(
    lines: list[tuple[int, tuple[str, ...]]],
) -> None:
    text = "".join(" " * indent + "".join(parts) + "\n" for indent, parts in lines)
    mine = yamlplain.load(text)
    if mine is NOT_PLAIN:
        return
    try:
        theirs = pyyaml(text)
    except yaml.YAMLError as exc:  # pragma: no cover - the failure this test is for
        pytest.fail(f"read here but refused by PyYAML ({exc}): {text!r}")
    assert repr(mine) == repr(theirs), text


def test_a_kubeconfig_out_of_the_subset_is_read_by_pyyaml_alike(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text(KUBECTL)
    commented = tmp_path / "commented"
    commented.write_text(
        "# written by hand\n" + KUBECTL.replace("kind: Config", "kind: Config  # ok")
    )
    assert yamlplain.load(commented.read_text()) is NOT_PLAIN
    assert kubeconfig._read_kubeconfig(str(commented)) == kubeconfig._read_kubeconfig(str(plain))


def test_pyyaml_errors_keep_their_wording(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nclusters: a: b\n")
    with pytest.raises(ApiUnreachableError) as caught:
        kubeconfig._read_kubeconfig(str(bad))
    assert str(caught.value) == f"kubeconfig {bad}:2:12: mapping values are not allowed here"


def test_the_marker_says_what_it_is() -> None:
    assert repr(NOT_PLAIN) == "NOT_PLAIN"
