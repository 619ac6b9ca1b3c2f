"""Recording of calls and their quality review (APCO/NENA ANS 1.107.1): the recordings Twilio
makes of each call's conference, how long they are kept, who played them; the sample of calls
reviewed per call-taker and period, the review form, and its results."""
