"""Builds the /metrics page: process-local or multi-process samples plus derived and cluster metrics."""

import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ops import buildinfo
from ops.metrics.process import ProcessTreeCollector

# django-prometheus' database counters, re-exported under the documented innominatus_* names.
_ALIASES = {
    "django_db_execute": ("innominatus_db_queries", "Database queries executed (django_db_execute_total)."),
    "django_db_errors": (
        "innominatus_db_query_errors",
        "Database queries that raised (django_db_errors_total).",
    ),
}


def multiprocess_dir() -> str | None:
    """The directory shared by this server's processes, when multi-process mode is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Source(Collector):
    """The recorded samples: summed over PROMETHEUS_MULTIPROC_DIR, or this process' registry."""

    def __init__(self) -> None:
        directory = multiprocess_dir()
        if directory:
            self._registry = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(self._registry, path=directory)
        else:
            self._registry = REGISTRY

    def collect(self) -> Iterator[Metric]:
        return iter(self._registry.collect())


def _total(family: Metric, suffix: str) -> float:
    return sum(sample.value for sample in family.samples if sample.name.endswith(suffix))


class DerivedCollector(Collector):
    """The recorded samples, followed by uptime, build info, the DB aliases and the average duration."""

    def __init__(self, source: Collector) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        families = list(self._source.collect())
        yield from families
        by_name = {family.name: family for family in families}
        yield GaugeMetricFamily(
            "innominatus_uptime_seconds", "Seconds since the server started.", buildinfo.uptime_seconds()
        )
        info = GaugeMetricFamily(
            "innominatus_build_info", "Version and commit of the running build.", labels=["version", "commit"]
        )
        info.add_metric([buildinfo.version(), buildinfo.commit()], 1)
        yield info
        for source_name, (name, documentation) in _ALIASES.items():
            family = by_name.get(source_name)
            yield CounterMetricFamily(name, documentation, _total(family, "_total") if family else 0.0)
        durations = by_name.get("innominatus_workflow_duration_seconds")
        count = _total(durations, "_count") if durations else 0.0
        average = _total(durations, "_sum") / count if durations and count else 0.0
        yield GaugeMetricFamily(
            "innominatus_workflow_duration_seconds_avg",
            "Average duration of the workflow executions finished since the server started.",
            average,
        )


class Exposition:
    """What generate_latest needs: an object whose collect() yields every family once."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


def exposition(*, include_cluster: bool, process_root: int | None = None) -> Exposition:
    """Everything this server exposes, for generate_latest or push_to_gateway."""
    collectors: list[Collector] = [DerivedCollector(_Source())]
    if multiprocess_dir():
        # In single-process mode the default registry already carries process_* for this process.
        collectors.append(ProcessTreeCollector(process_root))
    if include_cluster:
        from ops.metrics.cluster import ClusterCollector

        collectors.append(ClusterCollector())
    return Exposition(collectors)


def render(*, include_cluster: bool, process_root: int | None = None) -> bytes:
    """The Prometheus text exposition for this server (web replica or worker pod)."""
    return generate_latest(exposition(include_cluster=include_cluster, process_root=process_root))
