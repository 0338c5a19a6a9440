"""Broker I/O in a supervised child process, so that a crash of librdkafka never ends the server.

librdkafka 2.16 can abort() (a broken coordinator connection) or segfault (an OffsetFetch before
`__consumer_offsets` exists) the process it runs in (docs/faults.md). The poller's broker work runs
in a child started with the multiprocessing *spawn* context (never fork: the server has threads):
worker.py is the child's loop, sessions.py what it does (the SnapshotCollector and the cycle's other
reads), supervisor.py the parent's side (start, calls with a timeout, crash causes, restart with
back-off), crash.py the pure parts (causes, back-off, health). Nothing here imports Django.
"""
