"""An RQ worker for tests that run bursts: RQ's SimpleWorker without its command channel.

RQ 3 starts a pub/sub thread per worker (for shutdown and stop-job commands, which a burst in a
test never sends) that waits up to 60 s for a message. On a loaded machine the reply to the
unsubscribe at the end of a burst can arrive before that thread listens, and the burst then
ends 60 s late: the cause of the outbox tests' flakiness under load.
"""

from __future__ import annotations

from rq import SimpleWorker


class BurstWorker(SimpleWorker):
    """Runs jobs in its own process, as SimpleWorker does, and subscribes to nothing."""

    def subscribe(self) -> None:
        pass
