"""Accounts of the people who sign in (call-takers, supervisors, dispatchers, admins) and the
call-takers' presence kept in step with them."""
