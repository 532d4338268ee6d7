"""Each firm's quality file in a running city (docs/ODD.md §7.16): events enter it in the
month they happen and are read back with their dates; the file keeps at least the 36 months
of the titles' three-year rule."""

import numpy as np

from simcity_quality.engine import quality_file
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import small_city
from simcity_quality.experiments.firms import firm_panel


def test_a_national_spot_check_failure_enters_the_file_with_its_date(plan):
    model = QualityCityModel(small_city(plan, 800), seed=5)
    failures = []  # (firm id, month) of every national failure, as it happened
    while not model.finished:
        model.step()
        t, pop = model.steps - 1, model.pop
        now = np.flatnonzero(pop.alive & (pop.file_national_failed & np.uint64(1) != 0))
        failures += [(int(pop.id[s]), t) for s in now]
        # every firm simulated one agent: the file's failures are the month's spot-check tally
        sampled, passed = model.tallies.spot[t]
        assert now.size == sampled - passed
    assert len(failures) > 10
    t_end, pop = model.steps - 1, model.pop
    assert quality_file.MEMORY_MONTHS >= max(quality_file.THREE_YEARS, model.n_months)
    found = 0
    for firm_id, t in failures:
        slot = np.flatnonzero(pop.alive & (pop.id == firm_id))
        if slot.size:  # still in the city at the end: its file holds the failure, dated
            found += 1
            events = quality_file.events(pop, int(slot[0]), t_end)
            assert (t, "national_failed") in events and (t, "national_checked") in events
            assert quality_file.within(pop.file_national_failed[slot], t_end - t + 1)[0]
    assert found > 10


def test_the_firm_panel_reads_the_file(plan):
    panel = firm_panel(small_city(plan, 400), seed=2)
    m = panel.months
    # the file's city inspections are the panel's inspections, month by month
    assert (m["file_inspected"] == m["inspected"] & ~m["exited"]).all()
    assert (m["file_inspection_failed"] == m["failed"] & ~m["exited"]).all()
    firm = int(m.loc[m["file_national_failed"], "id"].iloc[0])
    file = panel.quality_file(firm)
    failed = file[file["event"] == "national_failed"]
    assert len(failed) and (failed["step"].isin(file.loc[file["event"] == "national_checked",
                                                         "step"])).all()
    rows = panel.firm(firm)
    assert set(failed["step"]) == set(rows.loc[rows["file_national_failed"], "step"])
