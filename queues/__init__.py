"""Redis priority queues of waiting calls: ordering, positions, wait estimates, stats.

The public surface: `Queues` (the service), its `Batch`, and the values in `queues.model`.
"""

from queues.batch import Batch
from queues.model import (
    EMERGENCY,
    PRIORITY_MAX,
    PRIORITY_MIN,
    ClassStats,
    Entry,
    PushResult,
    QueueClass,
    WaitEstimate,
)
from queues.service import Queues

__all__ = [
    "EMERGENCY",
    "PRIORITY_MAX",
    "PRIORITY_MIN",
    "Batch",
    "ClassStats",
    "Entry",
    "PushResult",
    "QueueClass",
    "Queues",
    "WaitEstimate",
]
