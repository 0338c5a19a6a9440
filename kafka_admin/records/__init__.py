"""Records read from a topic: the Record tuple, reading by offset or time, and untrusted payloads made safe to show."""
