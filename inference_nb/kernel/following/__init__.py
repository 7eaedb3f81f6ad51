"""How the controller keeps runs current (docs/ARCHITECTURE.md, "The controller").

One events connection per server where the server has one (`event_feed.py`); else a per-run stream
while a stream slot is free, and one shared poll scheduler for the rest (`polls.py`). Whichever
path a snapshot takes, it reaches the run through its `Followed` entry (`followed.py`), which
drops snapshots older than the one applied, so a listener sees each change once, in order.
"""
