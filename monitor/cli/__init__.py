"""The `monitor` command line (Typer + Rich), on the application floor."""
