"""Developer tools that run outside the test suite."""
