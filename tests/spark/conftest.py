"""The Spark tier: the warehouse aggregations on PySpark in local mode, one session for all.

Run with: .venv/bin/python -m pytest -p no:cacheprovider -q -m spark tests/spark
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spark: runs on PySpark in local mode (Java 17)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/spark" in str(item.path):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        message = "no Java: the Spark tier needs Java 17"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(
        logging.ERROR
    )  # its shutdown chatter outlives pytest's streams

    session = (
        SparkSession.builder.master("local[2]")
        .appName("joinedup-spark-tier")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
