"""The runs API of the embedded server: functions, a deterministic planner, the run engine."""
