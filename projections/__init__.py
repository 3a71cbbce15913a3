"""Read models: each consumes the event log and writes its own tables."""
