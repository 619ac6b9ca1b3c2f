"""The floor's figures: reports, the audit, the wallboard, staffing (Erlang C), charts, and the
call-takers' state history in SQL."""
