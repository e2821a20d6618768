"""The `edgeagent` command line.

Thin on purpose: each subcommand lives in its own module and is imported only when it runs,
so `edgeagent run` starts without importing torch.
"""

import importlib

import click

# name -> "module:attribute" of a click command or group. Add a line per command.
COMMANDS: dict[str, str] = {
    "data": "edgeagent.commands.data:data",
    "models": "edgeagent.commands.models:models",
    "eval": "edgeagent.commands.eval:eval_group",
    "export": "edgeagent.commands.export:export",
    "bench-scaffold": "edgeagent.commands.bench_scaffold:bench_scaffold",
    "bench": "edgeagent.commands.bench:bench",
    "quant-report": "edgeagent.commands.quant_report:quant_report",
    "train": "edgeagent.commands.train:train",
    "run": "edgeagent.commands.infer:run",
    "infer": "edgeagent.commands.infer:infer",
    "chat": "edgeagent.commands.chat:chat",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edgeagent")
def main():
    """edgeagent: an offline SmolLM assistant that chats, reasons and calls tools.

    Tool calls are built from the function's JSON Schema by a C++ scaffold compiler; a small
    head fills only the value slots. Everything runs from local files; nothing leaves the machine.
    """


if __name__ == "__main__":
    main()
