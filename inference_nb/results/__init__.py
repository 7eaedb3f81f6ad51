"""What a result becomes in the kernel: DataFrames (`frames`), files and images (`files`), and a
run's notebook display (`display`). Pure functions: no network, no IPython, no import of the rest
of the package, so they work in a plain script.
"""
