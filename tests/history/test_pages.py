"""Making pages: in place, by one thread of the run while its readers read on; the program's cycle collector and
Arrow's memory pool left as they were found."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator

import pytest

from customerio_aep.customerio.app_api import Answer, AppApiError
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.history import Window
from customerio_aep.history import pages
from customerio_aep.history.local_mapping import LocalMapping
from customerio_aep.history.pages import PageResult, Pages, PageWork, make_page
from tests.emulators.customerio.history import generate_history
from tests.history.conftest import NOW

WORK = PageWork(frozenset(ALL_EVENTS), False, "", None)
WINDOW = Window(NOW - 40 * 86400, NOW)


def _answer(body: bytes) -> Answer:
    return Answer(body, None, "/v1/messages", "messages")


PAGE = _answer(json.dumps({"messages": generate_history(50, NOW, days=30)}).encode())
"""A page of 50 deliveries."""


@pytest.fixture
def collector_restored() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


@pytest.mark.parametrize("collecting", [True, False])
def test_a_page_made_or_refused_leaves_the_collector_on_or_off_as_it_was(
    collecting: bool, collector_restored: None
) -> None:
    (gc.enable if collecting else gc.disable)()
    page = make_page(WORK, PAGE, WINDOW)
    assert page.deliveries == 50 and page.events and gc.isenabled() is collecting
    with pytest.raises(AppApiError):
        make_page(WORK, _answer(b"<html>not JSON</html>"), WINDOW)
    assert gc.isenabled() is collecting


def test_a_run_unfreezes_what_it_froze_and_only_that(collector_restored: None) -> None:
    with Pages(WORK, processes=1):
        assert gc.get_freeze_count() > 0  # what was there before the run is left out of its collections
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a program's own (a server before it forks)
    with Pages(WORK, processes=1):
        pass
    assert gc.get_freeze_count() > 0  # still frozen (fewer, as some of them were freed meanwhile)


MAPPED = PageWork(frozenset(ALL_EVENTS), False, "", LocalMapping(
    [{"source": "event_id", "destination": "_id"},
     {"sourceType": "EXPRESSION", "source": 'dformat(timestamp * 1000, "yyyy-MM-dd")', "destination": "timestamp"}],
    {"_id": "string", "timestamp": "date-time"},
))  # fmt: skip
"""A batch road's work: records of the two fields a record needs."""


@pytest.mark.parametrize("processes", [1, 2])
def test_a_batch_run_makes_records_with_jemalloc_and_puts_the_programs_pool_back(
    processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
        during = "jemalloc"
    except NotImplementedError:  # a pyarrow built without it: the run keeps the program's pool
        during = "system"
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    found = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())  # the program's own choice
    try:
        with Pages(MAPPED, processes) as made:
            assert pa.default_memory_pool().backend_name == during
            page = made.submit(PAGE, WINDOW).result()
        assert page.mapped is not None and len(page.mapped.event_ids) == page.kinds.total() > 0
        assert pa.default_memory_pool().backend_name == "system"
        with Pages(WORK, processes=1):  # a stream run makes no records: Arrow is left alone
            assert pa.default_memory_pool().backend_name == "system"
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")  # a user's choice stands
        with Pages(MAPPED, processes=1):
            assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(found)


def test_in_place_one_thread_makes_every_page_and_no_reader_waits_for_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    made_by: list[int] = []
    gate = threading.Event()

    def held(work: PageWork, given: Answer, window: Window) -> PageResult:
        gate.wait(5)
        made_by.append(threading.get_ident())
        return make_page(work, given, window)

    monkeypatch.setattr(pages, "make_page", held)
    with Pages(WORK, processes=1) as made:
        asked = []
        readers = [threading.Thread(target=lambda: asked.append(made.submit(PAGE, WINDOW))) for _ in range(3)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(2)
        waiting = [reader for reader in readers if reader.is_alive()]
        gate.set()
        results = [page.result(10) for page in asked]
    assert not waiting, "a reader waited while its page was made"
    assert [page.deliveries for page in results] == [50, 50, 50]
    assert len(set(made_by)) == 1 and made_by[0] not in {reader.ident for reader in readers}
