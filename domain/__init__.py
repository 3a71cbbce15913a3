"""The journal's domain: aggregates, events and rules. Pure: no I/O, no clock reads."""
