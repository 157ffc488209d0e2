import pytest
import redis.exceptions
from django.core.cache import cache
from django.db import transaction

from skillstudio import data_versions


@pytest.mark.django_db(transaction=True)
def test_a_learner_version_moves_on_commit_and_only_for_that_learner():
    before, other = data_versions.learner_version(1), data_versions.learner_version(2)
    assert data_versions.learner_version(1) == before  # stable until something changes

    with transaction.atomic():
        data_versions.learners_changed([1])
        assert data_versions.learner_version(1) == before  # not before commit

    assert data_versions.learner_version(1) != before
    assert data_versions.learner_version(2) == other


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_bumps_nothing():
    before = data_versions.learner_version(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        data_versions.learners_changed([1])
        raise RuntimeError("write failed")
    assert data_versions.learner_version(1) == before


@pytest.mark.django_db(transaction=True)
def test_a_catalogue_change_moves_every_learner_version():
    first, second = data_versions.learner_version(1), data_versions.learner_version(2)
    data_versions.catalog_changed()
    assert data_versions.learner_version(1) != first
    assert data_versions.learner_version(2) != second


def test_an_evicted_version_is_replaced_by_a_new_token():
    before = data_versions.learner_version(1)
    cache.clear()
    assert data_versions.learner_version(1) not in (None, before)


@pytest.mark.django_db(transaction=True)
def test_redis_down_gives_no_version_and_a_lost_bump_is_logged(monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(cache, "get_many", unreachable)
    monkeypatch.setattr(cache, "set_many", unreachable)
    assert data_versions.learner_version(1) is None
    with transaction.atomic():
        data_versions.learners_changed([1])
    assert "Could not bump 5 data version(s)" in caplog.text  # one per kind


@pytest.mark.django_db(transaction=True)
def test_versions_read_together_match_one_by_one_and_move_per_learner():
    together = data_versions.learner_versions([1, 2, 3])
    assert together == {pk: data_versions.learner_version(pk) for pk in (1, 2, 3)}

    data_versions.learners_changed([2])
    after = data_versions.learner_versions([1, 2, 3])
    assert (after[1], after[3]) == (together[1], together[3])
    assert after[2] != together[2]


@pytest.mark.django_db(transaction=True)
def test_a_write_of_one_kind_moves_that_kind_and_the_combined_version_only():
    before = data_versions.learner_kind_versions([1])[1]
    combined = data_versions.learner_version(1)

    data_versions.learners_changed([1], kinds=[data_versions.ACTIVITY])

    after = data_versions.learner_kind_versions([1])[1]
    assert after[data_versions.ACTIVITY] != before[data_versions.ACTIVITY]
    assert {k: v for k, v in after.items() if k != data_versions.ACTIVITY} == {
        k: v for k, v in before.items() if k != data_versions.ACTIVITY
    }
    assert data_versions.learner_version(1) != combined  # "anything about the learner" moved
    # A reader of the other kinds only is not invalidated.
    others = [kind for kind in data_versions.KINDS if kind != data_versions.ACTIVITY]
    assert data_versions.combined_version(after, others) == data_versions.combined_version(
        before, others
    )


@pytest.mark.django_db(transaction=True)
def test_a_write_that_names_no_kind_moves_every_kind():
    before = data_versions.learner_kind_versions([1])[1]
    data_versions.learners_changed([1])
    after = data_versions.learner_kind_versions([1])[1]
    assert all(after[kind] != before[kind] for kind in data_versions.KINDS)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown data kinds"):
        data_versions.learners_changed([1], kinds=["everything"])


@pytest.mark.django_db(transaction=True)
def test_a_catalogue_change_is_pending_until_its_commit_and_gone_with_its_savepoint():
    assert not data_versions.catalog_change_pending()
    version = data_versions.catalog_memo_version()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            data_versions.catalog_changed()
            assert data_versions.catalog_change_pending()
            assert data_versions.catalog_memo_version() is None  # no memo for this state
            raise RuntimeError("the edit fails")
        assert not data_versions.catalog_change_pending()
        assert data_versions.catalog_memo_version() == version
        data_versions.catalog_changed()
        assert data_versions.catalog_memo_version() is None
    assert not data_versions.catalog_change_pending()
    assert data_versions.catalog_memo_version() not in (None, version)
