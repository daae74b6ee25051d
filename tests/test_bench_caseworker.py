"""P4/P5 run end to end on a small population and return well-formed rows (figures not judged)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_p4_p5_return_three_well_formed_rows() -> None:
    from tropa.bench.caseworker_bench import bench_p4_p5
    from tropa.cases.models import Case
    from tropa.vault.models import CaseKeyWrap

    results = bench_p4_p5(cases=2000, staff=20, requests=10)

    assert [r.id for r in results] == ["P4", "P4-caseworker", "P5"]
    for r in results:
        assert r.value > 0 and r.reference > 0
        assert r.unit == "ms"
        assert abs(r.ratio - r.value / r.reference) < 1e-9
        assert r.verdict in {"PASS", "FAIL"}
        assert r.verdict == ("PASS" if r.value < 50 else "FAIL")
    assert Case.objects.count() == 2000
    legal = CaseKeyWrap.objects.filter(team__kind="legal").count()
    assert legal == 250
    assert "250 of 2,000" in results[1].what
