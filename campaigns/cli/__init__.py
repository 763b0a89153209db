"""The `campaign` command line: the demo sandbox and the operator's commands (typer + rich)."""
