"""Counters and histograms whose values the daemon keeps itself, exported through a custom collector.

prometheus_client's own ``labels(...).inc()`` and ``observe()`` take a lock and look a child
up on every call; observing each stored usage row's time to first token that way put about
3 µs of the daemon's main thread on every row (issue 18; ``benchmarks/metrics_cost.py``).
Here a stored batch is folded into plain dicts at once (a bucket found with
:func:`bisect.bisect_left`: the first bound at or above the value, as ``observe`` finds it)
and ``/metrics`` renders them through the library's public collector API as the same metric
families: names, types, help, labels, values, ``_created`` samples and their order are those
a ``Counter`` or a ``Histogram`` would give.

Safe while a scrape runs on another thread, without a lock: the daemon is the only writer,
and it never changes a published snapshot. Each fold builds a new dict of immutable values
from the current one and publishes it with one attribute assignment, which is atomic; a scrape
reads that attribute once, so it sees one batch's totals or the next one's, never a half-folded
batch or a dict that changes size while it is iterated.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["TalliedCounter", "TalliedHistogram"]

Labels = tuple[str, ...]
INFINITY = float("inf")


class TalliedCounter(Collector):
    """A counter family, one series per label tuple, counted a batch at a time by :meth:`add`."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        #: label values → (count, when the series was first counted): published whole, never changed
        self._series: dict[Labels, tuple[int, float]] = {}
        registry.register(self)

    def add(self, tally: Mapping[Any, int]) -> None:
        """Add one batch's counts, by label tuple; one counted zero times makes no series, as ``inc`` never called."""
        series = dict(self._series)
        now = time.time()
        for labels, count in tally.items():
            if count:
                value, created = series.get(labels, (0, now))
                series[labels] = value + count, created
        self._series = series

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        created = _created_series_exported()
        for labels, (value, since) in self._series.items():
            family.add_metric(labels, value, created=since if created else None)
        yield family


class TalliedHistogram(Collector):
    """A histogram family, one series per label tuple, observed a batch at a time by :meth:`observe`."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.bounds = (*map(float, buckets), INFINITY)
        self._le = tuple(map(floatToGoString, self.bounds))
        #: label values → (count per bucket, not cumulative; sum; when first observed): published whole
        self._series: dict[Labels, tuple[tuple[int, ...], float, float]] = {}
        registry.register(self)

    def observe(self, observations: Mapping[Labels, Iterable[float]]) -> None:
        """Observe one batch's values, by label tuple.

        The sums add the values one by one in their order, as ``Histogram.observe`` does, so
        they are the very floats it would give.
        """
        published, bounds = self._series, self.bounds
        series, now = dict(published), time.time()
        for labels, values in observations.items():
            counts, total, created = published.get(labels, ((0,) * len(bounds), 0.0, now))
            tally = list(counts)
            for value in values:
                tally[bisect_left(bounds, value)] += 1
                total += value
            series[labels] = tuple(tally), total, created
        self._series = series

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        created = _created_series_exported()
        for labels, (counts, total, since) in self._series.items():
            cumulative, buckets = 0, []
            for le, count in zip(self._le, counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric(labels, buckets, total)
            if created:
                family.add_sample(f"{self.name}_created", dict(zip(self.labelnames, labels, strict=True)), since)
        yield family


def _created_series_exported() -> bool:
    """Whether prometheus_client exports ``_created`` samples now (``PROMETHEUS_DISABLE_CREATED_SERIES``,
    ``disable_created_metrics()``): asked of a throwaway counter, so these families follow the library's own."""
    probe = Counter("created_probe", "", registry=None)
    return any(sample.name.endswith("_created") for metric in probe.collect() for sample in metric.samples)
