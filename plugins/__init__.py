"""bench's built-in plugins, installed as ``bench_plugins``; they use only the public API."""
