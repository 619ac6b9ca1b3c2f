"""The platform every room stands on: settings, the SQL engine, Redis, RQ jobs, the outbox, phone
numbers and the clock. It imports no other room of `ivr`."""
