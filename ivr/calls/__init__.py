"""Calls as records and as live state: the SQL record of each call and its events, what a
call-taker sees of a call, the live state of a call in Redis, the lines, and the links between a
caller and a call-taker."""
