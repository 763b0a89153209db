"""`python -m campaigns.cli ...` is the `campaign` command."""

from campaigns.cli.main import app

app(prog_name="campaign")
