"""The simulated day: its plan, its floor of scripted call-takers, its figures, scripted
transfers, and the try-a-call runner behind `ivr call`."""
