"""Transfers of a live call to a dispatch center (warm, cold, from the menu) and 911 -> 311:
what the console asks, what Twilio reports, the TwiML, the SQL records, the EIDO hand-off and
the dispatch centers' settings."""
