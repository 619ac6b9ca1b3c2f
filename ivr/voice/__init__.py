"""Twilio's webhooks and a caller's run through the engine: incoming and step, status
callbacks, the queue's wait and result, flow lookups, and the webhooks of the call-taker's leg
and of transfers."""
