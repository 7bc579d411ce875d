"""The `emberwatch` command line: one entry point that dispatches to each package's commands."""
