"""Everything that speaks Twilio: the `Telephony` adapter over its REST API, the REST client and its
base URL, request signatures, TwiML rendering, the safe answer, the browser phone's tokens."""
