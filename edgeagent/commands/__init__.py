"""CLI subcommands, one module each; edgeagent/cli.py imports them lazily."""
