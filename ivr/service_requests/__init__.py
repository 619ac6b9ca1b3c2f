"""Service requests: the catalogue of services, the requests and their history, which calls
touched which request, the phone paths that make and read them, and forwarding to a city's own
Open311 server."""
