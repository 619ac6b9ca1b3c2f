"""Connecting callers with call-takers: offers, accept/reject/hold, the bridge into the call's
conference, how a link ends, and callbacks."""
