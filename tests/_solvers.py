"""The solvers this build has: 'pg' joins 'cd' once nmf/_pg.py is part of the package."""
import importlib.util

SOLVERS = ["cd"] + (["pg"] if importlib.util.find_spec("nmf._pg") else [])
