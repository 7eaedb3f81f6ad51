"""The tasks API of the embedded server: the task engine, app instances and sessions, output files, routes."""
