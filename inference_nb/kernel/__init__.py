"""The kernel side: what turns a call into a followed run, on the controller's own loop.

- `base_client`: `BaseClient`, the logic behind `Client` (submits, checks, lookups);
- `run`: the `Run` handle people hold; `run_display`: how a Run shows in a cell, live;
- `backends`: what a Run needs of its protocol, one class per API;
- `controller` and `following/`: the loop on a daemon thread that keeps every Run current;
- `starting`: a create that can be found again when its caller stops waiting;
- `sessions`: `AppSession`; `input_check`: an app's input checked before it is sent;
- `embedded_server`: this process's embedded server, started on first use.
See docs/ARCHITECTURE.md, "Layers" and "The controller".
"""
