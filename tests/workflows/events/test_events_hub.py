"""The hub's horizon: an id taken by a transaction still running holds it; a rolled-back one does not."""

from workflows.events.hub import Hub


def rows(*ids: int) -> list[dict[str, object]]:
    return [{"id": number} for number in ids]


def test_a_missing_id_holds_the_horizon_until_its_transaction_ended() -> None:
    hub = Hub()
    # 11 is visible, 10 is not: its transaction (xid < 500, the snapshot's xmax) may still commit it.
    horizon, usable = hub._advance(9, rows(11, 12), xmin=450, xmax=500)
    assert (horizon, usable) == (9, [])
    # Later, still running (xmin below the recorded xmax): held.
    assert hub._advance(9, rows(11, 12), xmin=499, xmax=520)[0] == 9
    # It committed: 10 is visible now, everything moves on.
    horizon, usable = hub._advance(9, rows(10, 11, 12), xmin=520, xmax=530)
    assert horizon == 12 and [row["id"] for row in usable] == [10, 11, 12]
    assert hub._state.gaps == {}


def test_an_id_of_a_rolled_back_transaction_is_skipped() -> None:
    hub = Hub()
    assert hub._advance(0, rows(1, 3), xmin=90, xmax=100)[0] == 1
    # Every transaction older than the recorded xmax has ended and 2 is still not there: never comes.
    horizon, usable = hub._advance(1, rows(3, 4), xmin=100, xmax=110)
    assert horizon == 4 and [row["id"] for row in usable] == [3, 4]
