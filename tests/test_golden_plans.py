"""A refactoring of the planner leaves every answer identical: 500 seeded door-to-door plans on the embedded
data, recorded by ``scripts/golden_plans.py`` (see its docstring), are answered the same today.

The recording was made with the planner as it was before the TAD / time-axis / leg-builder refactoring
(commit d7e20ea), on the regenerated data of the real territory. When a change is *meant* to alter answers,
re-record with ``python scripts/golden_plans.py --out tests/data/golden_plans.json`` and say which answers
changed and why in the commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden_plans.json"


def _recorder():
    spec = importlib.util.spec_from_file_location("golden_plans", ROOT / "scripts" / "golden_plans.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_corpus_is_the_recorded_one(embedded_planner):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(golden) == 500
    assert [g["request"] for g in golden] == _recorder().corpus(embedded_planner)
    assert sum(isinstance(g["answer"], dict) for g in golden) > 200  # most of them find itineraries


def test_answers_are_identical_to_the_recording(embedded_planner):
    diffs = _recorder().differences(embedded_planner, json.loads(GOLDEN.read_text(encoding="utf-8")))
    assert not diffs, [(i, req) for i, req, _, _ in diffs[:5]]
