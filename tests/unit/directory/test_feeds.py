"""Reading ORUK feeds without a database: shapes, checks and the tabular package."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from joinedup.directory import feeds
from joinedup.directory.models import Schedule
from joinedup.directory.presenters import opening_times


@pytest.mark.parametrize(
    ("item", "kind"),
    [
        ({"contents": []}, "page"),
        ({"id": "1", "name": "x", "status": "active"}, "service"),
        ({"id": "1", "name": "x", "services": []}, "organization"),
        ({"id": "1", "name": "x", "website": "https://x"}, "organization"),
        ({"id": "1", "name": "x", "taxonomy_terms": []}, "taxonomy"),
        ({"id": "1", "name": "x", "term": "falls"}, "taxonomy_term"),
        ({"id": "1", "location": {}, "service": {}}, "service_at_location"),
        ({"id": "1", "name": "x"}, "service"),
    ],
)
def test_payload_kind_recognises_each_oruk_shape(item: dict[str, object], kind: str) -> None:
    assert feeds.payload_kind(item) == kind


def test_ids_that_are_not_uuids_map_to_the_same_uuid_every_time() -> None:
    one = feeds.feed_uuid("123", source="tameside", entity="service")

    assert one == feeds.feed_uuid("123", source="tameside", entity="service")
    assert one != feeds.feed_uuid("123", source="oldham", entity="service")
    assert feeds.feed_uuid(str(one), source="x", entity="y") == one


def test_a_bad_nested_record_is_kept_back_alone() -> None:
    service = {
        "id": str(uuid.uuid4()),
        "name": "Lunch club",
        "status": "active",
        "contacts": [{"id": "c1", "name": "A"}, "oops"],
        "service_at_locations": [{"id": "s1", "location": {"id": "l1", "location_type": "moon"}}],
    }

    feed = feeds.feed_read_json(json.dumps(service), source="t")

    assert len(feed.services) == 1
    assert [c["name"] for c in feed.services[0].children["contacts"]] == ["A"]
    assert feed.services[0].locations == []
    assert {p.where: p.reasons for p in feed.problems} == {
        "$.contacts[1]": ["a contact must be a JSON object, not str"],
        "$.service_at_locations[0].location": [
            "location_type 'moon' is not one of: physical, postal, virtual"
        ],
    }


def test_not_json_is_unreadable_with_where() -> None:
    with pytest.raises(feeds.FeedUnreadable) as caught:
        feeds.feed_read_json("[1, 2", source="t")

    assert caught.value.where.startswith("line 1")


def test_tabular_rows_that_join_nothing_are_kept_back(tmp_path: Path) -> None:
    (tmp_path / "services.csv").write_text(
        "id,name,status\n6a1b63a0-8b1b-4c1e-9f55-2f0b1b8d7a10,Lunch club,active\n"
    )
    (tmp_path / "schedule.csv").write_text("id,service_id,byday\nk1,nobody,MO\n")
    (tmp_path / "extra.csv").write_text("a\n1\n")

    feed = feeds.feed_read_tabular(tmp_path, source="t")

    assert len(feed.services) == 1
    problems = {p.where: (p.kept_back, p.reasons) for p in feed.problems}
    assert problems["schedule.csv line 2"][0] is True
    assert problems["extra.csv"][0] is False


def test_opening_times_read_as_words() -> None:
    from datetime import time

    lines = opening_times(
        [
            Schedule(byday="MO,TU,WE,TH,FR", opens_at=time(9), closes_at=time(17, 30)),
            Schedule(byday="SA,SU", opens_at=time(10), closes_at=time(12)),
            Schedule(byday="MO,TU,WE,TH,FR,SA,SU", opens_at=time(0), closes_at=time(23, 59)),
        ]
    )

    assert lines == [
        "Monday to Friday, 9am to 5:30pm",
        "Saturday and Sunday, 10am to 12pm",
        "Every day, 24 hours",
    ]
