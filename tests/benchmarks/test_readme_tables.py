"""README numbers come from the JSON they cite: the filter-agreement tables are regenerated and must match."""

import importlib.util
import json

from tests.conftest import ROOT


def test_filter_agreement_tables_match_their_json():
    spec = importlib.util.spec_from_file_location("far", ROOT / "benchmarks" / "filter_agreement_readme.py")
    far = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(far)
    expected = far.tables(json.loads(far.RESULTS.read_text()))
    readme = (ROOT / "README.md").read_text()
    missing = [line for line in expected.splitlines() if line and line not in readme]
    assert not missing, f"README lines not regenerated from filter_agreement.json: {missing[:3]}"
