"""Every browser page and JSON API: the consoles of call-takers, supervisors, admins and
dispatchers, the flow editor, the floor's pages, and Open311."""
