"""README numbers come from the JSON they cite: every generated block must be exactly what its JSON renders."""

import json

import pytest

from benchmarks import readme_tables as rt
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def readme():
    return (ROOT / "README.md").read_text()


def test_every_block_matches_its_json(readme):
    stale = rt.stale_blocks(readme)
    assert not stale, (f"README blocks that differ from their JSON: {stale}; "
                       f"run `.venv/bin/python -m benchmarks.readme_tables`")


def test_every_registered_block_is_in_the_readme(readme):
    missing = [n for n in rt.BLOCKS if n not in rt.blocks_in(readme)]
    assert not missing, f"registered blocks without <!-- generated: NAME --> markers in README.md: {missing}"


def test_every_block_cites_existing_results():
    for name, block in rt.BLOCKS.items():
        for source in block.sources:
            assert (rt.RESULTS / source).is_file(), f"block {name}: benchmarks/results/{source} does not exist"


def test_demo_counts_are_the_pinned_pipeline_counts():
    # the README's demo table renders demo_counts.json; test_pipeline recomputes and pins the same counts every run
    from tests.curation.test_pipeline import MAIL_EXPECTED

    j = json.loads((rt.RESULTS / "demo_counts.json").read_text())
    assert {s["name"]: (s["kept"], s["reasons"]) for s in j["steps"]} == MAIL_EXPECTED
    assert (j["input"], j["kept"], j["removed"], j["quarantined"]) == (6046, 2876, 3170, 0)


def test_dedup_scripts_counts_are_the_pinned_ones():
    # the README's zh/ja near-copy table renders dedup_scripts.json; test_dedup_scripts pins the same counts
    from tests.curation.steps.test_dedup_scripts import EXPECTED_FOUND

    j = json.loads((rt.RESULTS / "dedup_scripts.json").read_text())
    winnow = {tuple(k.split("/")): v for k, v in j["engines"]["winnow"]["found_per_edit"].items()}
    assert {k: v for k, v in winnow.items() if k in EXPECTED_FOUND} == EXPECTED_FOUND
    groups = [j["engines"][e]["found_per_group"] for e in ("winnow", "datasketch")]
    assert [(g["constructed/label=1"], g["real/label=1"], g["constructed/label=0"]) for g in groups] == [
        (363, 988, 0), (353, 983, 0)]  # test_dedup_scripts' precision/recall assertions, both engines


def render_for_test(j):
    return f"| n |\n|---|\n| {j['n']:,} |"


def test_markers_are_checked_and_rewritten(monkeypatch, tmp_path):
    (tmp_path / "t.json").write_text('{"n": 2876}')
    monkeypatch.setattr(rt, "RESULTS", tmp_path)
    monkeypatch.setitem(rt.BLOCKS, "t", rt.Block(("t.json",), "tests.benchmarks.test_readme_tables:render_for_test"))
    text = "a\n<!-- generated: t -->\n| n |\n|---|\n| 2,365 |\n<!-- end: t -->\nb\n"
    assert rt.blocks_in(text) == {"t": "| n |\n|---|\n| 2,365 |"}
    assert rt.stale_blocks(text) == ["t"]
    new = rt.rewrite(text)
    assert new == "a\n<!-- generated: t -->\n\n| n |\n|---|\n| 2,876 |\n\n<!-- end: t -->\nb\n"
    assert rt.stale_blocks(new) == []
    assert rt.rewrite(text, only=[]) == text
    with pytest.raises(KeyError):
        rt.rewrite(text, only=["filter_agreement"])  # registered, but not in this text
    assert rt.stale_blocks("<!-- generated: nope -->\nx\n<!-- end: nope -->") == ["nope"]
    for broken in ("<!-- generated: t -->\nx", "x\n<!-- end: t -->",
                   "<!-- generated: t -->\n<!-- generated: u -->\n<!-- end: u -->\n<!-- end: t -->"):
        with pytest.raises(ValueError):
            rt.blocks_in(broken)
